import Foundation
import ImageCore

/// A command's output folder: created on the first write (a run that writes nothing leaves
/// nothing), every file written atomically, and no path that is an input (an image, a mask
/// given with `--mask`, a truth mask, or anything inside a folder of them) ever written.
public struct OutputFolder: Sendable {
    public let root: String
    let protectedFiles: Set<String>
    let protectedFolders: [String]

    /// - Parameters:
    ///   - inputs: files that must never be written.
    ///   - inputFolders: folders (of masks, of truth) none of whose files may be written.
    public init(_ root: String, inputs: [String], inputFolders: [String] = []) {
        self.root = root
        protectedFiles = Set(inputs.map(Self.resolved))
        protectedFolders = inputFolders.map { Self.resolved($0) + "/" }
    }

    static func resolved(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }

    func makeFolder(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw PipelineError.cannotCreateFolder(path, error.localizedDescription)
        }
    }

    /// Checks that the folder can be made (before any work is done).
    public func check() throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw PipelineError.cannotCreateFolder(root, "a file of that name exists") }
            guard FileManager.default.isWritableFile(atPath: root) else {
                throw PipelineError.cannotCreateFolder(root, "not writable")
            }
        }
    }

    /// A path inside the folder, checked against the inputs; sub-folders are created.
    public func path(_ components: String...) throws -> String {
        var url = URL(fileURLWithPath: root)
        for c in components { url.appendPathComponent(c) }
        let resolved = Self.resolved(url.path)
        if protectedFiles.contains(resolved) || protectedFolders.contains(where: { resolved.hasPrefix($0) }) {
            throw PipelineError.wouldOverwriteInput(url.path)
        }
        try makeFolder(url.deletingLastPathComponent().path)
        return url.path
    }

    /// Writes text atomically.
    public func write(_ text: String, to name: String...) throws {
        try ImageWriter.writeAtomically(Array(text.utf8), to: try path(name.joined(separator: "/")))
    }

    /// Writes bytes atomically.
    public func write(_ bytes: [UInt8], to name: String...) throws {
        try ImageWriter.writeAtomically(bytes, to: try path(name.joined(separator: "/")))
    }
}
