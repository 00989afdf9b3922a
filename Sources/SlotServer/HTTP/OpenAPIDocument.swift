/// The OpenAPI document of the v1 API, served at `GET /v1/openapi.yaml`.
///
/// The text lives in `Sources/SlotServer/Resources/openapi.yaml` and is compiled into the binary by the
/// `EmbedOpenAPIDocument` build plugin, so an installed `slotd` needs no resource bundle beside it. Tests check that
/// every route is documented, that the document is valid OpenAPI 3.1, and every integration-test response against it.
public enum OpenAPIDocument {
    /// The YAML text.
    public static let yaml: String = openAPIDocumentText
}
