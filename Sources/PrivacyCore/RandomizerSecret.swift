/// The device-local secret that makes the permanent randomized responses stable (RAPPOR's PRR key).
/// Generated once with the system RNG and persisted on the device by another module; never sent.
public struct RandomizerSecret: Hashable, Sendable, CustomStringConvertible {
    /// The secret's length in bytes.
    public static let byteCount = 32

    /// The secret bytes (exactly ``byteCount``).
    public let bytes: [UInt8]

    /// Wraps stored secret bytes.
    /// - Throws: ``RandomizerSecretError/wrongLength(_:)`` unless there are exactly 32 bytes.
    public init(bytes: some Collection<UInt8>) throws(RandomizerSecretError) {
        guard bytes.count == Self.byteCount else {
            throw .wrongLength(bytes.count)
        }
        self.bytes = Array(bytes)
    }

    /// A fresh secret from the system's cryptographically secure generator.
    public static func generate() -> RandomizerSecret {
        var rng = SystemRandomNumberGenerator()
        return Self.generate(using: &rng)
    }

    /// A secret drawn from `rng`. Use a cryptographically secure generator outside tests.
    public static func generate(using rng: inout some RandomNumberGenerator) -> RandomizerSecret {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.byteCount)
        while bytes.count < Self.byteCount {
            withUnsafeBytes(of: rng.next().littleEndian) { bytes.append(contentsOf: $0) }
        }
        return try! RandomizerSecret(bytes: bytes.prefix(Self.byteCount))
    }

    /// Never shows the bytes, so the secret cannot leak into logs or output.
    public var description: String { "RandomizerSecret(redacted)" }
}

/// Why stored bytes are not a ``RandomizerSecret``.
public enum RandomizerSecretError: Error, Equatable, CustomStringConvertible {
    /// The secret must be exactly 32 bytes; the associated value is the length found.
    case wrongLength(Int)

    public var description: String {
        switch self {
        case .wrongLength(let count):
            "randomizer secret: expected \(RandomizerSecret.byteCount) bytes, got \(count)"
        }
    }
}
