import Foundation
import PackagePlugin

/// Compiles every file under `Resources/web/` of the target into `webAssetFiles`, a Swift array of names with their
/// bytes (and a gzip copy of text files), so the booking page is served from the binary alone (see
/// EmbedOpenAPIDocument for why resources are not bundles).
@main
struct EmbedWebAssets: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let target = target as? SourceModuleTarget else { return [] }
        let folder = target.directoryURL.appending(path: "Resources/web")
        var files: [URL] = []
        if let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey]) {
            for case let url as URL in walker
            where (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true
                && !url.lastPathComponent.hasPrefix(".")
            {
                files.append(url)
            }
        }
        files.sort { $0.path < $1.path }
        let generated = context.pluginWorkDirectoryURL.appending(path: "WebAssetFiles.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) web asset(s) in \(target.name)",
                executable: try context.tool(named: "EmbedText").url,
                arguments: ["--files", generated.path(), "webAssetFiles", folder.path()] + files.map { $0.path() },
                inputFiles: files,
                outputFiles: [generated]
            )
        ]
    }
}
