import PrivacyCore
import Testing

@testable import PrivacyNetwork

@Suite("ReportPool") struct ReportPoolTests {
    func envelope(epoch: UInt32, decile: Int, nonce: UInt64) -> (ReportEnvelope, ReportID) {
        let envelope = try! ReportEnvelope(epoch: epoch, report: .score(decile: decile), nonce: nonce)
        return (envelope, ReportID(envelope))
    }

    @Test("Reports of the current and previous epoch are kept and deduplicated by content id")
    func keepsTwoEpochs() {
        var pool = ReportPool()
        let (a, aID) = self.envelope(epoch: 5, decile: 1, nonce: 1)
        let (b, bID) = self.envelope(epoch: 4, decile: 2, nonce: 2)
        let (c, cID) = self.envelope(epoch: 3, decile: 3, nonce: 3)
        #expect(pool.insert(a, id: aID, currentEpoch: 5) == .inserted)
        #expect(pool.insert(a, id: aID, currentEpoch: 5) == .duplicate)
        #expect(pool.insert(b, id: bID, currentEpoch: 5) == .inserted)
        #expect(pool.insert(c, id: cID, currentEpoch: 5) == .wrongEpoch)
        #expect(pool.reports(epoch: 5) == [.score(decile: 1)])
        #expect(pool.reports(epoch: 4) == [.score(decile: 2)])
        #expect(pool.epochs == [4, 5])
        #expect(pool.contains(aID) && pool.contains(bID) && !pool.contains(cID))
    }

    @Test("Advancing the epoch drops every report older than the previous epoch, and never goes back")
    func advanceDrops() {
        var pool = ReportPool()
        let (a, aID) = self.envelope(epoch: 5, decile: 1, nonce: 1)
        let (b, bID) = self.envelope(epoch: 4, decile: 2, nonce: 2)
        pool.insert(a, id: aID, currentEpoch: 5)
        pool.insert(b, id: bID, currentEpoch: 5)
        pool.advance(to: 6)
        #expect(pool.count(epoch: 4) == 0)
        #expect(pool.count(epoch: 5) == 1)
        #expect(!pool.contains(bID))
        pool.advance(to: 3)
        #expect(pool.currentEpoch == 6)
        pool.advance(to: 8)
        #expect(pool.epochs.isEmpty)
    }

    @Test("Each epoch holds at most its capacity")
    func bounded() {
        var pool = ReportPool(capacityPerEpoch: 3)
        let results = (0..<5).map { index in
            let (envelope, id) = self.envelope(epoch: 2, decile: index, nonce: UInt64(index))
            return pool.insert(envelope, id: id, currentEpoch: 2)
        }
        #expect(results == [.inserted, .inserted, .inserted, .full, .full])
        #expect(pool.count(epoch: 2) == 3)
    }

    @Test("Envelopes for sync come in the epochs' order, up to the limit")
    func envelopesForSync() {
        var pool = ReportPool()
        var current: [ReportEnvelope] = []
        var previous: [ReportEnvelope] = []
        for index in 0..<3 {
            let (a, aID) = self.envelope(epoch: 7, decile: index, nonce: UInt64(index))
            let (b, bID) = self.envelope(epoch: 6, decile: index, nonce: UInt64(10 + index))
            pool.insert(a, id: aID, currentEpoch: 7)
            pool.insert(b, id: bID, currentEpoch: 7)
            current.append(a)
            previous.append(b)
        }
        #expect(pool.envelopes(epochs: [7, 6], limit: 10) == current + previous)
        #expect(pool.envelopes(epochs: [6, 7], limit: 4) == previous + current.prefix(1))
        #expect(pool.envelopes(epochs: [5], limit: 10).isEmpty)
    }
}
