import Crypto

/// A self-describing hash (https://github.com/multiformats/multihash):
/// `<uvarint function code><uvarint digest length><digest>`.
///
/// Only the two functions libp2p peer IDs use are supported: ``Code/identity`` (the digest is the
/// input itself) and ``Code/sha2_256``.
public struct Multihash: Hashable, Sendable {
    /// A multihash function code (from the multicodec table).
    public enum Code: UInt64, Hashable, Sendable {
        /// `identity` (0x00): no hashing, the digest is the input.
        case identity = 0x00
        /// `sha2-256` (0x12): a 32-byte SHA-256 digest.
        case sha2_256 = 0x12
    }

    /// The longest identity digest accepted when decoding, in bytes.
    public static let maxIdentityDigestLength = 128

    /// The hash function.
    public let code: Code
    /// The digest bytes.
    public let digest: [UInt8]

    /// Hashes the code and the digest's bytes in one call (a synthesized conformance feeds the hasher byte by byte:
    /// peer IDs key the host's connection and connection-manager tables).
    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.code)
        self.digest.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    /// The identity multihash of `bytes`.
    ///
    /// - Precondition: `bytes.count <= Multihash.maxIdentityDigestLength`.
    public static func identity<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Multihash {
        precondition(bytes.count <= Self.maxIdentityDigestLength, "identity multihash input is too long")
        return Multihash(uncheckedCode: .identity, digest: Array(bytes))
    }

    /// The sha2-256 multihash of `bytes`.
    public static func sha2_256<Bytes: Sequence<UInt8>>(of bytes: Bytes) -> Multihash {
        var hasher = SHA256()
        hasher.update(data: Array(bytes))
        return Multihash(uncheckedCode: .sha2_256, digest: Array(hasher.finalize()))
    }

    private init(uncheckedCode code: Code, digest: [UInt8]) {
        self.code = code
        self.digest = digest
    }

    /// Decodes a multihash that fills `bytes` exactly.
    ///
    /// - Throws: ``P2PCoreError`` with ``P2PCoreError/Code/unsupportedMultihash`` for other functions,
    ///   ``P2PCoreError/Code/malformedMultihash`` for bad lengths or trailing bytes.
    public init<Bytes: Collection<UInt8>>(bytes: Bytes) throws {
        let bytes = Array(bytes)
        guard let (codeValue, codeLength) = try UVarint.decodePrefix(bytes) else {
            throw P2PCoreError(.malformedMultihash, "multihash is empty or its code is truncated")
        }
        guard let code = Code(rawValue: codeValue) else {
            throw P2PCoreError(
                .unsupportedMultihash,
                "multihash function 0x\(String(codeValue, radix: 16)) is not supported (only identity and sha2-256)"
            )
        }
        let rest = bytes[codeLength...]
        guard let (length, lengthLength) = try UVarint.decodePrefix(rest) else {
            throw P2PCoreError(.malformedMultihash, "multihash digest length is missing or truncated")
        }
        let digest = rest.dropFirst(lengthLength)
        guard length == UInt64(digest.count) else {
            throw P2PCoreError(
                .malformedMultihash,
                "multihash declares a \(length)-byte digest but \(digest.count) bytes follow"
            )
        }
        switch code {
        case .identity:
            guard digest.count <= Self.maxIdentityDigestLength else {
                throw P2PCoreError(.tooLarge, "identity multihash digest of \(digest.count) bytes is too long")
            }
        case .sha2_256:
            guard digest.count == 32 else {
                throw P2PCoreError(.malformedMultihash, "sha2-256 digest must be 32 bytes, not \(digest.count)")
            }
        }
        self.code = code
        self.digest = Array(digest)
    }

    /// The encoded multihash: code, digest length, digest.
    public var bytes: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(2 + self.digest.count)
        UVarint.encode(self.code.rawValue, into: &bytes)
        UVarint.encode(UInt64(self.digest.count), into: &bytes)
        bytes.append(contentsOf: self.digest)
        return bytes
    }
}
