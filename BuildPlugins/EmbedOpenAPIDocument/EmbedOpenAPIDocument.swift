import Foundation
import PackagePlugin

/// Compiles `Resources/openapi.yaml` of the target into a Swift string constant, `openAPIDocumentText`.
///
/// Embedding instead of a `Bundle.module` resource: SwiftPM's bundle accessor looks for `<package>_<target>.resources`
/// beside the executable, then at the absolute build path, and calls `fatalError` when both are missing — which is
/// what an installed `/usr/local/bin/slotd` (copied alone, as the README says) would meet once the build tree is gone.
@main
struct EmbedOpenAPIDocument: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let target = target as? SourceModuleTarget else { return [] }
        let document = target.directoryURL.appending(path: "Resources/openapi.yaml")
        let generated = context.pluginWorkDirectoryURL.appending(path: "OpenAPIDocumentText.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(document.lastPathComponent) in \(target.name)",
                executable: try context.tool(named: "EmbedText").url,
                arguments: [document.path(), generated.path(), "openAPIDocumentText"],
                inputFiles: [document],
                outputFiles: [generated]
            )
        ]
    }
}
