import Foundation

/// Where a classifier or the primary-particle detector looks for its installed model `fileName`, first match wins: the
/// environment variable, then `models/FILE` beside the executable, `../share/sootctl/FILE`
/// beside it, the repository's `models/` when the executable is a SwiftPM build
/// (`.build/<config>/`, a link to `.build/<triple>/<config>/`), and `models/FILE` in the
/// current directory.
public func installedModelCandidates(fileName: String, environmentVariable: String,
                                     executablePath: String = CommandLine.arguments.first ?? "") -> [String] {
    var candidates: [String] = []
    if let env = ProcessInfo.processInfo.environment[environmentVariable], !env.isEmpty { candidates.append(env) }
    let exe = URL(fileURLWithPath: executablePath).resolvingSymlinksInPath().deletingLastPathComponent()
    candidates.append(exe.appendingPathComponent("models/\(fileName)").path)
    candidates.append(exe.appendingPathComponent("../share/sootctl/\(fileName)").standardized.path)
    candidates.append(exe.appendingPathComponent("../../models/\(fileName)").standardized.path)
    candidates.append(exe.appendingPathComponent("../../../models/\(fileName)").standardized.path)
    candidates.append(FileManager.default.currentDirectoryPath + "/models/\(fileName)")
    var seen = Set<String>()
    return candidates.filter { seen.insert($0).inserted }
}
