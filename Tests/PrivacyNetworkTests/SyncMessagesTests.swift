import PrivacyCore
import Testing

@testable import PrivacyNetwork

@Suite("Sync codec") struct SyncMessagesTests {
    @Test("A request round-trips and has the documented layout")
    func requestRoundTrip() throws {
        let request = try SyncRequest(epochs: [7, 6], maximumEnvelopes: 300)
        let bytes = request.encode()
        #expect(bytes == [1, 2, 0, 0, 0, 7, 0, 0, 0, 6, 0x01, 0x2C])
        #expect(try SyncRequest(decoding: bytes) == request)
        #expect(SyncRequest.catchUp(currentEpoch: 7, maximumEnvelopes: 300) == request)
        #expect(SyncRequest.catchUp(currentEpoch: 0).epochs == [0])
    }

    @Test(
        "Malformed requests are rejected as malformed messages",
        arguments: [
            [], [1], [2, 1, 0, 0, 0, 7, 0, 1], [1, 0, 0, 1], [1, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 1],
            [1, 1, 0, 0, 0, 7, 0], [1, 1, 0, 0, 0, 7, 0, 1, 9], [1, 1, 0, 0, 0, 7, 0, 0],
            [1, 1, 0, 0, 0, 7, 0x04, 0x01],
            [1, 2, 0, 0, 0, 7, 0, 0, 0, 7, 0, 1],
        ] as [[UInt8]]
    )
    func malformedRequests(bytes: [UInt8]) {
        #expect(throws: PrivacyNetworkError(.malformedMessage, "")) { try SyncRequest(decoding: bytes) }
    }

    @Test("Invalid request arguments are refused")
    func invalidArguments() {
        #expect(throws: PrivacyNetworkError(.invalidArgument, "")) { try SyncRequest(epochs: []) }
        #expect(throws: PrivacyNetworkError(.invalidArgument, "")) { try SyncRequest(epochs: [1, 2, 3]) }
        #expect(throws: PrivacyNetworkError(.invalidArgument, "")) { try SyncRequest(epochs: [1], maximumEnvelopes: 0) }
        #expect(throws: PrivacyNetworkError(.invalidArgument, "")) {
            try SyncRequest(epochs: [1], maximumEnvelopes: SyncRequest.maximumCount + 1)
        }
    }

    @Test("A response round-trips, carrying the envelopes' exact bytes")
    func responseRoundTrip() throws {
        let envelopes = (0..<3).map { try! ReportEnvelope(epoch: 4, report: .risk(bucket: $0), nonce: UInt64($0)) }
        let response = SyncResponse(envelopes: envelopes)
        let bytes = response.encode()
        #expect(bytes.count == 3 + 3 * 512)
        #expect(Array(bytes.prefix(3)) == [1, 0, 3])
        let decoded = try SyncResponse(decoding: bytes)
        #expect(decoded.envelopes == envelopes.map { $0.encode() })
        #expect(try SyncResponse(decoding: SyncResponse(envelopes: []).encode()).envelopes.isEmpty)
    }

    @Test("Malformed responses are rejected: short, bad version, count over the limit, length mismatch")
    func malformedResponses() {
        let one = SyncResponse(envelopes: [try! ReportEnvelope(epoch: 1, report: .score(decile: 1))]).encode()
        let cases: [[UInt8]] = [
            [], [1, 0], [2, 0, 0], [1, 0x04, 0x01], Array(one.dropLast()), one + [0], [1, 0, 2] + one.dropFirst(3),
        ]
        for bytes in cases {
            #expect(throws: PrivacyNetworkError(.malformedMessage, "")) { try SyncResponse(decoding: bytes) }
        }
    }

    @Test("Encoded sizes stay within the declared limits")
    func limits() {
        #expect(SyncRequest.maximumEncodedSize == 12)
        let full = SyncResponse(
            envelopes: Array(repeating: try! ReportEnvelope(epoch: 1, report: .score(decile: 1)), count: 2000)
        )
        #expect(full.envelopes.count == SyncRequest.maximumCount)
        #expect(full.encode().count == SyncResponse.maximumEncodedSize)
    }
}
