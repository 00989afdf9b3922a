import SlotProviders

/// Pay at the shop: no money moves online. A booking with a deposit is confirmed at once and the deposit is due
/// at the shop, so nothing here is ever called by the outbox; it answers so that a stray job finishes cleanly.
public struct ManualPayments: PaymentProvider {
    public let name = "manual"
    public let collectsOnline = false

    public init() {}

    public func createDeposit(_ request: DepositRequest) async throws(ProviderError) -> DepositResult {
        DepositResult(reference: "manual-\(request.bookingID)", status: .pending)
    }

    public func cancelDeposit(_ request: RefundRequest) async throws(ProviderError) -> RefundResult {
        RefundResult(reference: request.reference, status: .cancelled)
    }

    public func refund(_ request: RefundRequest) async throws(ProviderError) -> RefundResult {
        // Money paid at the shop is given back at the shop.
        RefundResult(reference: request.reference, status: .refunded)
    }

    public func verifyWebhook(_ delivery: WebhookDelivery) throws(ProviderError) -> PaymentWebhookEvent {
        throw .rejected("manual payments have no webhooks")
    }
}
