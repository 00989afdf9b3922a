import Foundation
import SlotStore
import Testing

@testable import SlotServer

@Suite("event bus")
struct EventBusTests {
    static func event(_ cursor: Int64) -> StoredEvent {
        StoredEvent(cursor: cursor, type: "booking.created", at: 0, data: Data("{}".utf8))
    }

    @Test("a subscriber that does not read is cut off once its buffer is full, without slowing the publisher")
    func overflow() async {
        let bus = EventBus()
        let slow = bus.subscribe(bufferSize: 2)
        let fast = bus.subscribe(bufferSize: 100)
        for cursor: Int64 in 1...5 { bus.publish([Self.event(cursor)]) }
        #expect(slow.overflowed)
        #expect(!fast.overflowed)
        #expect(bus.subscriberCount == 1)
        var delivered = 0
        for await _ in slow.stream { delivered += 1 }
        #expect(delivered == 2, "what was buffered is still delivered, then the stream ends")
        fast.cancel()
        #expect(bus.subscriberCount == 0)
    }

    @Test("closing the bus ends every subscription")
    func close() async {
        let bus = EventBus()
        let subscription = bus.subscribe(bufferSize: 4)
        bus.close()
        var count = 0
        for await _ in subscription.stream { count += 1 }
        #expect(count == 0)
    }
}
