import Foundation

/// Writes a message to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data(("sootctl: " + message + "\n").utf8))
}

/// Writes an error to standard error, naming the file unless the message already does.
func printError(_ error: Error, path: String) {
    let text = (error as? LocalizedError)?.errorDescription ?? String(describing: error)
    printError(text.hasPrefix(path) ? "error: " + text : "error: \(path): \(text)")
}
