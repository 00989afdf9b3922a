import Foundation
import GRDB
import SlotCore
import SlotEngine
import SlotRules
import Testing

@testable import SlotStore

/// Customers are records (issue 14), against the memory twin and the SQLite file alike.
struct CustomerStoreTests {
    func customers(_ store: any SlotStorage) throws -> any CustomerStore {
        try #require(store as? any CustomerStore)
    }

    // MARK: - Matching

    /// The bug of issue 14: book as A with e-mail E and phone P, then as B with E and no phone. Every earlier
    /// booking read B (the customer row was renamed), and B's booking inherited P, so an SMS would go to P.
    @Test(arguments: StoreKind.tested)
    func aSecondBookingWithTheSameEmailRenamesNothingAndInheritsNoPhone(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let first = try await Fixture.book(
            store, Fixture.booking(customer: "Anna Alt", email: "e@example.com", phone: "+4915112345678"))
        let second = try await Fixture.book(
            store, Fixture.booking(at: 60, customer: "Bea Berg", email: "e@example.com", phone: nil))

        let firstRead = try #require(try await store.booking(id: first.id))
        let secondRead = try #require(try await store.booking(id: second.id))
        #expect(firstRead.customer == CustomerInfo(name: "Anna Alt", email: "e@example.com", phone: "+4915112345678"))
        #expect(secondRead.customer == CustomerInfo(name: "Bea Berg", email: "e@example.com", phone: nil))
        #expect(first.customerID == second.customerID, "one e-mail is one customer")

        let history = try #require(try await customers(store).customerHistory(id: first.customerID))
        #expect(history.customer.name == "Anna Alt", "the record is never renamed")
        #expect(history.customer.phone == "+4915112345678")
        #expect(history.bookings.map(\.customer.name) == ["Anna Alt", "Bea Berg"])
        #expect(history.conflicts.map(\.kind) == [.differentName])
        #expect(history.conflicts.first?.bookingID == second.id)
        let events = try await store.events(after: 0, typePrefix: "customer.", limit: 10)
        #expect(events.map(\.type) == ["customer.conflict"])
        #expect(events.first?.object["kind"] as? String == "different_name")
    }

    @Test(arguments: StoreKind.tested)
    func theSamePhoneOrTheSameEmailInAnyCaseIsOneCustomer(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let byPhone1 = try await Fixture.book(store, Fixture.booking(email: nil, phone: "+4915100000001"))
        let byPhone2 = try await Fixture.book(store, Fixture.booking(at: 60, email: nil, phone: "+4915100000001"))
        #expect(byPhone1.customerID == byPhone2.customerID)
        let byEmail1 = try await Fixture.book(store, Fixture.booking(at: 120, email: "Lee@Example.com", phone: nil))
        let byEmail2 = try await Fixture.book(store, Fixture.booking(at: 180, email: "lee@example.COM", phone: nil))
        #expect(byEmail1.customerID == byEmail2.customerID)
        #expect(byEmail1.customerID != byPhone1.customerID)
        let all = try await customers(store).searchCustomers(CustomerSearch())
        #expect(all.count == 2)
        #expect(all.allSatisfy { $0.openConflicts == 0 }, "same name, same contact: nothing for the desk")
    }

    @Test(arguments: StoreKind.tested)
    func aPhoneOfOneCustomerAndAnEmailOfAnotherIsAConflictToMerge(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let x = try await Fixture.book(store, Fixture.booking(email: nil, phone: "+4915100000001"))
        let y = try await Fixture.book(store, Fixture.booking(at: 60, email: "kim@example.com", phone: nil))
        #expect(x.customerID != y.customerID)
        let both = try await Fixture.book(
            store, Fixture.booking(at: 120, email: "kim@example.com", phone: "+4915100000001"))
        #expect(both.customerID == x.customerID, "filed under the phone's customer")
        let listing = try await customers(store).searchCustomers(CustomerSearch(onlyConflicts: true))
        #expect(listing.map(\.customer.id) == [x.customerID])
        let conflict = try #require(try await customers(store).customerHistory(id: x.customerID)?.conflicts.first)
        #expect(conflict.kind == .twoRecords)
        #expect(conflict.otherCustomerID == y.customerID)
        #expect(conflict.bookingID == both.id)
        // Y sees it too.
        #expect(try await customers(store).customerHistory(id: y.customerID)?.conflicts == [conflict])
    }

    @Test(arguments: StoreKind.tested)
    func aMissingContactIsFilledInAndADifferentOneIsAConflict(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let first = try await Fixture.book(store, Fixture.booking(email: nil, phone: "+4915100000001"))
        _ = try await Fixture.book(store, Fixture.booking(at: 60, email: "kim@example.com", phone: "+4915100000001"))
        var record = try #require(try await customers(store).customerHistory(id: first.customerID))
        #expect(record.customer.email == "kim@example.com")
        #expect(record.conflicts.isEmpty)
        let third = try await Fixture.book(
            store, Fixture.booking(at: 120, email: "other@example.com", phone: "+4915100000001"))
        record = try #require(try await customers(store).customerHistory(id: first.customerID))
        #expect(record.customer.email == "kim@example.com", "a different e-mail is not written over the record's")
        #expect(record.conflicts.map(\.kind) == [.differentContact])
        #expect(record.conflicts.first?.bookingID == third.id)
    }

    // MARK: - Search, notes, merge, erase

    @Test(arguments: StoreKind.tested)
    func searchFindsPartsOfNamesEmailsAndPhones(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let ben = try await Fixture.book(
            store, Fixture.booking(customer: "Ben Meyer", email: "ben@mail.example", phone: "+4915112345678"))
        let cleo = try await Fixture.book(
            store, Fixture.booking(at: 60, customer: "Cleo 100%_", email: nil, phone: "+4369912345"))
        let records = try customers(store)
        func ids(_ search: CustomerSearch) async throws -> [String] {
            try await records.searchCustomers(search).map(\.customer.id)
        }
        #expect(try await ids(CustomerSearch(text: "meY")) == [ben.customerID])
        #expect(try await ids(CustomerSearch(text: "MAIL.ex")) == [ben.customerID])
        #expect(try await ids(CustomerSearch(text: "151 123")) == [ben.customerID], "digits however spaced")
        #expect(try await ids(CustomerSearch(text: "0151 12345678", phone: "+4915112345678")) == [ben.customerID])
        #expect(try await ids(CustomerSearch(text: "%_")) == [cleo.customerID], "LIKE wildcards are plain text")
        #expect(try await ids(CustomerSearch(text: "nobody")) == [])
        // Both were made at the same instant: ordered by id then, which is random.
        #expect(Set(try await ids(CustomerSearch())) == [ben.customerID, cleo.customerID])
        #expect(try await ids(CustomerSearch(limit: 1)).count == 1)
        #expect(try await records.searchCustomers(CustomerSearch(text: "ben")).first?.bookings == 1)
    }

    @Test(arguments: StoreKind.tested)
    func aNoteIsKeptAndRecordedAsAnEvent(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let booking = try await Fixture.book(store, Fixture.booking())
        let change = try await customers(store).setCustomerNote(
            id: booking.customerID, note: "prefers Lena", at: Fixture.now + 5)
        #expect(change.customer.note == "prefers Lena")
        #expect(change.events.map(\.type) == ["customer.noted"])
        #expect(try await customers(store).customerHistory(id: booking.customerID)?.customer.note == "prefers Lena")
        let records = try customers(store)
        let missing = await storeError { () async throws(StoreError) in
            _ = try await records.setCustomerNote(id: "cu_x", note: "", at: 0)
        }
        #expect(missing?.code == .notFound)
    }

    @Test(arguments: StoreKind.tested)
    func mergingMovesBookingsSettlesTheirConflictAndDeletesTheOther(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let x = try await Fixture.book(store, Fixture.booking(email: nil, phone: "+4915100000001"))
        let y = try await Fixture.book(store, Fixture.booking(at: 60, email: "kim@example.com", phone: nil))
        _ = try await Fixture.book(store, Fixture.booking(at: 120, email: "kim@example.com", phone: "+4915100000001"))
        let records = try customers(store)
        _ = try await records.setCustomerNote(id: y.customerID, note: "allergic to lavender", at: Fixture.now)
        let change = try await records.mergeCustomers(into: x.customerID, from: y.customerID, at: Fixture.now + 9)
        #expect(change.customer.email == "kim@example.com" && change.customer.phone == "+4915100000001")
        #expect(change.customer.note == "allergic to lavender")
        let merged = try #require(event(change.events.first))
        #expect(change.events.map(\.type) == ["customer.merged"])
        #expect(merged["other"] as? String == y.customerID && merged["bookings"] as? Int == 1)
        let history = try #require(try await records.customerHistory(id: x.customerID))
        #expect(history.bookings.count == 3)
        #expect(history.conflicts.isEmpty, "the merge settled the conflict between the two")
        #expect(try await records.customerHistory(id: y.customerID) == nil)
        #expect(try await store.booking(id: y.id)?.customerID == x.customerID)
        let itself = await storeError { () async throws(StoreError) in
            _ = try await records.mergeCustomers(into: x.customerID, from: x.customerID, at: 0)
        }
        #expect(itself?.code == .constraintViolation)
    }

    @Test(arguments: StoreKind.tested)
    func resolvingClosesTheConflictsAndKeepsTheRecordsApart(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let x = try await Fixture.book(store, Fixture.booking(email: nil, phone: "+4915100000001"))
        let y = try await Fixture.book(store, Fixture.booking(at: 60, email: "kim@example.com", phone: nil))
        _ = try await Fixture.book(store, Fixture.booking(at: 120, email: "kim@example.com", phone: "+4915100000001"))
        let records = try customers(store)
        let change = try await records.resolveCustomerConflicts(id: y.customerID, at: Fixture.now)
        #expect(change.events.map(\.type) == ["customer.conflicts_resolved"])
        #expect(event(change.events.first)?["conflicts"] as? Int == 1)
        #expect(try await records.customerHistory(id: x.customerID)?.conflicts == [])
        #expect(try await records.searchCustomers(CustomerSearch(onlyConflicts: true)).isEmpty)
        #expect(try await records.searchCustomers(CustomerSearch()).count == 2, "both records stay")
    }

    @Test(arguments: StoreKind.tested)
    func erasingRemovesPersonalDataKeepsBookingsAndRecordsAnEvent(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let booking = try await Fixture.book(
            store, Fixture.booking(customer: "Dana Dorn", email: "dana@example.com", phone: "+4915100000009"))
        let other = try await Fixture.book(store, Fixture.booking(at: 60, customer: "Eli", email: "eli@example.com"))
        let records = try customers(store)
        _ = try await records.setCustomerNote(id: booking.customerID, note: "regular", at: Fixture.now)
        // A message sent to her, and one to Eli, as the notification worker enqueues them.
        for (bookingID, name) in [(booking.id, "Dana Dorn"), (other.id, "Eli")] {
            try await store.enqueueJobs(
                [
                    OutboxEnqueue(
                        kind: NotificationJob.deliveryPrefix + "smtp",
                        object: ["booking": bookingID, "to": ["name": name]], dueAt: Fixture.now)
                ], at: Fixture.now)
        }
        let change = try await records.eraseCustomer(id: booking.customerID, at: Fixture.now + 60)
        #expect(change.customer.name == "(erased)")
        #expect(change.customer.email == nil && change.customer.phone == nil && change.customer.note.isEmpty)
        #expect(change.customer.erasedAt == Fixture.now + 60)
        #expect(change.events.map(\.type) == ["customer.erased"])
        let kept = try #require(try await store.booking(id: booking.id))
        #expect(kept.customer == CustomerInfo(name: "(erased)") && kept.notes.isEmpty)
        #expect(kept.status == .confirmed && kept.price == booking.price, "the booking stays for the books")
        #expect(try await store.booking(id: other.id)?.customer.name == "Eli", "other customers are untouched")
        #expect(try await records.searchCustomers(CustomerSearch(text: "dana")).isEmpty)
        let messages = try await store.outboxJobs(state: nil, limit: 100).filter {
            $0.kind.hasPrefix(NotificationJob.deliveryPrefix)
        }
        #expect(messages.map { $0.object["booking"] as? String } == [other.id], "her message is gone, Eli's stays")
        // Nothing personal is left in the event log.
        for event in try await store.events(after: 0, typePrefix: nil, limit: 100) {
            let text = String(decoding: event.data, as: UTF8.self)
            #expect(!text.contains("Dana") && !text.contains("dana@") && !text.contains("0000009"))
        }
        // A new booking with the old contact is a new customer: nothing left to match.
        let again = try await Fixture.book(
            store, Fixture.booking(at: 120, customer: "Dana Dorn", email: "dana@example.com", phone: nil))
        #expect(again.customerID != booking.customerID)
    }

    // MARK: - Booking codes

    @Test(arguments: StoreKind.tested)
    func everyBookingHasAShortUniqueCodeAcceptedWhereTheIdIs(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        var codes = Set<String>()
        var last: StoredBooking?
        for index in 0..<40 {
            let booking = try await Fixture.book(store, Fixture.booking(at: Int64(index) * 60))
            #expect(BookingCode.normalise(booking.code) == booking.code, "\(booking.code) is a code")
            codes.insert(booking.code)
            last = booking
        }
        #expect(codes.count == 40)
        let booking = try #require(last)
        #expect(try await store.booking(id: booking.code)?.id == booking.id)
        let spoken = BookingCode.display(booking.code).lowercased()
        #expect(try await store.booking(id: spoken)?.id == booking.id, "lower case with a dash")
        #expect(try await store.booking(id: "ZZZZZZ") == nil || booking.code == "ZZZZZZ")
        let cancelled = try await store.cancel(booking.code, at: Fixture.now, policy: Policies())
        #expect(cancelled.booking.id == booking.id && cancelled.booking.status == .cancelled)
        #expect(cancelled.booking.code == booking.code, "a transition keeps the code")
        #expect(try await store.bookings(matching: BookingQuery()).map(\.code).allSatisfy { !$0.isEmpty })
    }

    @Test func codesUseNoLookAlikeCharacters() {
        for _ in 0..<500 {
            let code = BookingPlanner.randomCode()
            #expect(code.count == 6)
            #expect(!code.contains { "01OIL".contains($0) })
        }
        #expect(BookingCode.normalise("k7m-q4x") == "K7MQ4X")
        #expect(BookingCode.normalise("K7M 0Q4") == nil, "0 is not in the alphabet")
        #expect(BookingCode.normalise("bk_3f2a9c") == nil)
        #expect(BookingCode.display("K7MQ4X") == "K7M-Q4X")
    }

    @Test func aCollisionDrawsAgain() throws {
        var draws = 0
        let code = BookingPlanner.newBookingCode { _ in
            draws += 1
            return draws < 3
        }
        #expect(draws == 3 && code?.count == 6)
        #expect(BookingPlanner.newBookingCode { _ in true } == nil, "a full code space is an error, not a loop")
    }

    /// Each booking looks its customer up by phone and by e-mail: both through an index, never a scan.
    @Test func matchingACustomerReadsAnIndexNotTheTable() throws {
        let store = try SQLiteBookingStore(path: TempDirectory().path("plan.db"))
        for (sql, index) in [
            (SQLiteBookingStore.customerByPhone, "customers_phone"),
            (SQLiteBookingStore.customerByEmail, "customers_email_key"),
        ] {
            let plan = try store.pool.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: ["x"]).map { $0["detail"] as String }
            }
            #expect(plan.contains { $0.contains("USING INDEX \(index)") }, "\(plan)")
            #expect(!plan.contains { $0.hasPrefix("SCAN customers") }, "\(plan)")
        }
    }

    // MARK: - Phone numbers stored before E.164

    /// Numbers stored as typed before slotd kept E.164 are rewritten with the shop's country, in the records and
    /// the bookings, so matching and search find them; a text that is no number stays and is counted.
    @Test(arguments: StoreKind.tested)
    func oldPhoneNumbersAreNormalisedAndUnreadableOnesReported(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let records = try customers(store)
        let old = try await Fixture.book(
            store, Fixture.booking(customer: "Olga Old", email: "olga@example.com", phone: "0151 234 5678"))
        let junk = try await Fixture.book(
            store, Fixture.booking(at: 60, customer: "Jo Junk", email: "jo@example.com", phone: "ask at the desk"))
        let current = try await Fixture.book(
            store, Fixture.booking(at: 120, customer: "Nia New", email: "nia@example.com", phone: "+4930123456"))
        _ = try await Fixture.book(store, Fixture.booking(at: 180, customer: "Pia", email: nil, phone: nil))
        // Before: a search by the number in E.164 misses Olga.
        let number = "+491512345678"
        #expect(try await records.searchCustomers(CustomerSearch(text: number, phone: number)).isEmpty)

        let result = try await records.normaliseStoredPhones(PhoneRewrite(country: "DE"), at: Fixture.now + 5)
        #expect(result.customersRewritten == 1 && result.bookingsRewritten == 1)
        #expect(result.customersUnreadable == 1 && result.bookingsUnreadable == 1)
        #expect(result.unreadableCustomerIDs == [junk.customerID])

        let olga = try #require(try await records.customerHistory(id: old.customerID))
        #expect(olga.customer.phone == number && olga.customer.updatedAt == Fixture.now + 5)
        #expect(olga.bookings.map(\.customer.phone) == [number])
        #expect(try await store.booking(id: junk.id)?.customer.phone == "ask at the desk")
        #expect(try await store.booking(id: current.id)?.customer.phone == "+4930123456")
        let found = try await records.searchCustomers(CustomerSearch(text: number, phone: number))
        #expect(found.map(\.customer.id) == [old.customerID])
        // A new booking with her number (normalised by the server) finds her record.
        let again = try await Fixture.book(
            store, Fixture.booking(at: 240, customer: "Olga Old", email: nil, phone: number))
        #expect(again.customerID == old.customerID)

        // A second start changes nothing and still reports the unreadable one.
        let second = try await records.normaliseStoredPhones(PhoneRewrite(country: "DE"), at: Fixture.now + 9)
        #expect(second.customersRewritten == 0 && second.bookingsRewritten == 0 && second.customersUnreadable == 1)
    }

    @Test func theRewriteKeepsE164AndNamesWhatItCannotRead() {
        let rewrite = PhoneRewrite(country: "AT")
        #expect(rewrite.decide("+436641234567") == .keep)
        #expect(rewrite.decide("0664 123 4567") == .rewrite("+436641234567"))
        #expect(rewrite.decide("0049 151 2345678") == .rewrite("+491512345678"))
        #expect(rewrite.decide("+43 664 1234567") == .rewrite("+436641234567"))
        #expect(rewrite.decide("n/a") == .unreadable)
        #expect(rewrite.decide("12") == .unreadable)
    }

    // MARK: - Migration

    /// A database written before issue 14 (schema v6) opens with codes for its bookings, each booking keeping its
    /// customer's name, and the customers' e-mail no longer unique by case.
    @Test func theMigrationGivesOldBookingsCodesAndTheirNames() throws {
        let directory = try TempDirectory()
        let path = directory.path("old.db")
        do {
            let queue = try DatabaseQueue(path: path)
            try StoreSchema.migrator.migrate(queue, upTo: "v6-covering-span-index")
            try queue.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO customers (id, name, email, phone, created_at, updated_at)
                            VALUES ('cu_old', 'Old Name', 'old@example.com', '0151 1', 1, 1);
                        """)
                for index in 0..<3 {
                    try db.execute(
                        sql: """
                            INSERT INTO bookings (id, status, staff_id, services, start_at, end_at, busy_start,
                                busy_end, segments, price_minor, currency, customer_id, created_at, updated_at)
                            VALUES (?, 'confirmed', 'ana', '["haircut"]', ?, ?, ?, ?, '[]', 2500, 'EUR', 'cu_old', 1, 1)
                            """,
                        arguments: ["bk_old\(index)", 1000 * index + 100, 1000 * index + 200, 1000 * index + 100,
                                    1000 * index + 200])
                }
            }
            try queue.close()
        }
        let store = try SQLiteBookingStore(path: path)
        let bookings = try store.pool.read { db in
            try SQLiteBookingStore.fetchBookings(
                db.makeStatement(sql: SQLiteBookingStore.selectBookings + " ORDER BY b.id"), arguments: [])
        }
        #expect(bookings.count == 3)
        #expect(Set(bookings.map(\.code)).count == 3)
        #expect(bookings.allSatisfy { BookingCode.normalise($0.code) == $0.code })
        let old = CustomerInfo(name: "Old Name", email: "old@example.com", phone: "0151 1")
        #expect(bookings.allSatisfy { $0.customer == old })
        let version = try store.pool.read { db in try Int.fetchOne(db, sql: "PRAGMA user_version") }
        #expect(version == StoreSchema.schemaVersion)
        // Codes are unique from now on.
        #expect(throws: (any Error).self) {
            try store.pool.write { db in
                try db.execute(sql: "UPDATE bookings SET code = ? WHERE id = 'bk_old1'", arguments: [bookings[0].code])
            }
        }
    }
}

/// A stored event's data as a dictionary.
private func event(_ event: StoredEvent?) -> [String: Any]? { event?.object }
