public import PrivacyCore

/// A catch-up request of `/phantom-trail/sync/1.0.0`: the epochs wanted and the most envelopes to send.
///
/// Layout (big-endian): version `1` (1 byte), epoch count `n` in 1...2 (1 byte), `n` epoch numbers (4 bytes each),
/// maximum count in 1...``SyncRequest/maximumCount`` (2 bytes). 8 or 12 bytes in all.
public struct SyncRequest: Hashable, Sendable {
    /// The codec version.
    public static let version: UInt8 = 1
    /// The most envelopes one response may carry.
    public static let maximumCount = 1024
    /// The most epochs one request may name (the current and the previous one).
    public static let maximumEpochs = 2
    /// The longest encoded request.
    public static let maximumEncodedSize = 2 + 4 * Self.maximumEpochs + 2

    /// The epochs wanted, in order of preference (distinct).
    public let epochs: [UInt32]
    /// The most envelopes to send back.
    public let maximumEnvelopes: Int

    /// A request.
    /// - Throws: ``PrivacyNetworkError/Code/invalidArgument`` for no epochs, more than two, repeated epochs, or a
    ///   count outside 1...``maximumCount``.
    public init(epochs: [UInt32], maximumEnvelopes: Int = Self.maximumCount) throws(PrivacyNetworkError) {
        guard (1...Self.maximumEpochs).contains(epochs.count), Set(epochs).count == epochs.count else {
            throw PrivacyNetworkError(.invalidArgument, "a sync request names 1 or 2 distinct epochs, not \(epochs)")
        }
        guard (1...Self.maximumCount).contains(maximumEnvelopes) else {
            throw PrivacyNetworkError(
                .invalidArgument,
                "a sync request asks for 1...\(Self.maximumCount) envelopes, not \(maximumEnvelopes)"
            )
        }
        self.epochs = epochs
        self.maximumEnvelopes = maximumEnvelopes
    }

    /// The request for the current and the previous epoch of a node at `currentEpoch`.
    public static func catchUp(currentEpoch: UInt32, maximumEnvelopes: Int = Self.maximumCount) -> SyncRequest {
        let epochs = currentEpoch > 0 ? [currentEpoch, currentEpoch - 1] : [currentEpoch]
        // Both arguments are within range by construction.
        return try! SyncRequest(epochs: epochs, maximumEnvelopes: min(max(1, maximumEnvelopes), Self.maximumCount))
    }

    /// The encoded request.
    public func encode() -> [UInt8] {
        var bytes: [UInt8] = [Self.version, UInt8(self.epochs.count)]
        for epoch in self.epochs {
            bytes += withUnsafeBytes(of: epoch.bigEndian) { Array($0) }
        }
        bytes += withUnsafeBytes(of: UInt16(self.maximumEnvelopes).bigEndian) { Array($0) }
        return bytes
    }

    /// Decodes a request.
    /// - Throws: ``PrivacyNetworkError`` with code ``PrivacyNetworkError/Code/malformedMessage`` naming the defect.
    public init(decoding bytes: [UInt8]) throws(PrivacyNetworkError) {
        guard bytes.count >= 2 else {
            throw PrivacyNetworkError(.malformedMessage, "sync request: \(bytes.count) bytes is too short")
        }
        guard bytes[0] == Self.version else {
            throw PrivacyNetworkError(.malformedMessage, "sync request: unsupported version \(bytes[0])")
        }
        let count = Int(bytes[1])
        guard (1...Self.maximumEpochs).contains(count) else {
            throw PrivacyNetworkError(.malformedMessage, "sync request: epoch count \(count) is outside 1...2")
        }
        let expected = 2 + 4 * count + 2
        guard bytes.count == expected else {
            throw PrivacyNetworkError(
                .malformedMessage,
                "sync request: expected \(expected) bytes for \(count) epochs, got \(bytes.count)"
            )
        }
        let epochs = (0..<count).map { index in
            bytes[(2 + 4 * index)..<(6 + 4 * index)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        }
        let maximum = Int(UInt16(bytes[expected - 2]) << 8 | UInt16(bytes[expected - 1]))
        do {
            try self.init(epochs: epochs, maximumEnvelopes: maximum)
        } catch {
            throw PrivacyNetworkError(.malformedMessage, "sync request: \(error.message)")
        }
    }
}

/// A catch-up response: a bounded list of envelopes.
///
/// Layout (big-endian): version `1` (1 byte), count `n` in 0...``SyncRequest/maximumCount`` (2 bytes), then `n`
/// envelopes of 512 bytes. The envelopes are not decoded here: the client validates each like a gossip message.
public struct SyncResponse: Hashable, Sendable {
    /// The codec version.
    public static let version: UInt8 = 1
    /// The longest encoded response.
    public static let maximumEncodedSize = 3 + SyncRequest.maximumCount * ReportEnvelope.size

    /// The raw envelopes, each exactly 512 bytes.
    public let envelopes: [[UInt8]]

    /// A response carrying `envelopes` (at most ``SyncRequest/maximumCount``; extra ones are dropped).
    public init(envelopes: [ReportEnvelope]) {
        self.envelopes = envelopes.prefix(SyncRequest.maximumCount).map { $0.encode() }
    }

    /// The encoded response.
    public func encode() -> [UInt8] {
        var bytes: [UInt8] = [Self.version]
        bytes += withUnsafeBytes(of: UInt16(self.envelopes.count).bigEndian) { Array($0) }
        bytes.reserveCapacity(3 + self.envelopes.count * ReportEnvelope.size)
        for envelope in self.envelopes { bytes += envelope }
        return bytes
    }

    /// Decodes a response (checking only its framing).
    /// - Throws: ``PrivacyNetworkError`` with code ``PrivacyNetworkError/Code/malformedMessage`` naming the defect.
    public init(decoding bytes: [UInt8]) throws(PrivacyNetworkError) {
        guard bytes.count >= 3 else {
            throw PrivacyNetworkError(.malformedMessage, "sync response: \(bytes.count) bytes is too short")
        }
        guard bytes[0] == Self.version else {
            throw PrivacyNetworkError(.malformedMessage, "sync response: unsupported version \(bytes[0])")
        }
        let count = Int(UInt16(bytes[1]) << 8 | UInt16(bytes[2]))
        guard count <= SyncRequest.maximumCount else {
            throw PrivacyNetworkError(
                .malformedMessage,
                "sync response: \(count) envelopes exceed the limit of \(SyncRequest.maximumCount)"
            )
        }
        let expected = 3 + count * ReportEnvelope.size
        guard bytes.count == expected else {
            throw PrivacyNetworkError(
                .malformedMessage,
                "sync response: expected \(expected) bytes for \(count) envelopes, got \(bytes.count)"
            )
        }
        self.envelopes = (0..<count).map { index in
            let start = 3 + index * ReportEnvelope.size
            return Array(bytes[start..<(start + ReportEnvelope.size)])
        }
    }
}
