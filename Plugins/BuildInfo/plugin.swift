import Foundation
import PackagePlugin

/// Writes `BuildInfo.swift` with the git commit the package is built from (nil outside a git
/// checkout), so results can name the exact code that made them (`run.json`). The file is
/// rewritten only when the commit changes, so a build without changes compiles nothing again.
@main
struct BuildInfoPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let folder = context.pluginWorkDirectoryURL.appending(path: "generated")
        let output = folder.appending(path: "BuildInfo.swift")
        let script = #"""
            mkdir -p "$2"
            c=$(git -C "$1" rev-parse HEAD 2>/dev/null || true)
            if [ -n "$c" ] && [ -n "$(git -C "$1" status --porcelain --untracked-files=no 2>/dev/null)" ]; then c="$c-modified"; fi
            if [ -n "$c" ]; then v="\"$c\""; else v="nil"; fi
            text="/// The git commit sootctl was built from (\"-modified\": with uncommitted changes); nil outside git.
            public let buildGitCommit: String? = $v"
            if [ ! -f "$3" ] || [ "$(cat "$3")" != "$text" ]; then printf '%s\n' "$text" > "$3.tmp" && mv "$3.tmp" "$3"; fi
            """#
        return [
            .prebuildCommand(
                displayName: "Recording the git commit", executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: ["-c", script, "sh", context.package.directoryURL.path, folder.path, output.path],
                outputFilesDirectory: folder)
        ]
    }
}
