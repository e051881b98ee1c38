import Crypto
public import PrivacyCore

/// The content id of a report: SHA-256 of its 512 envelope bytes, the same value as its GossipSub message id.
public struct ReportID: Hashable, Sendable, CustomStringConvertible {
    /// The 32 digest bytes.
    public let bytes: [UInt8]

    /// The id of some envelope bytes (any bytes: the id is computed before the envelope is decoded).
    public init(data: some Sequence<UInt8>) {
        var hasher = SHA256()
        hasher.update(data: Array(data))
        self.bytes = Array(hasher.finalize())
    }

    /// The id of an envelope.
    public init(_ envelope: ReportEnvelope) {
        self.init(data: envelope.encode())
    }

    /// The first 8 bytes in hex, enough to tell reports apart in logs.
    public var description: String {
        self.bytes.prefix(8).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
