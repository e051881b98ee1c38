/// Unsigned varints as defined by multiformats (https://github.com/multiformats/unsigned-varint).
///
/// Little-endian base-128: seven payload bits per byte, the high bit set on every byte except the
/// last. The encoding must be minimal and at most ``maxEncodedLength`` (9) bytes long, so values are
/// limited to 63 bits (``maxValue``). Decoders here reject anything else with a ``P2PCoreError``.
public enum UVarint {
    /// The longest allowed encoding, in bytes.
    public static let maxEncodedLength = 9
    /// The largest value that fits in ``maxEncodedLength`` bytes: 2^63 − 1.
    public static let maxValue: UInt64 = (1 << 63) - 1

    /// The number of bytes the minimal encoding of `value` takes (1 to 10; 10 only above ``maxValue``).
    public static func encodedLength(_ value: UInt64) -> Int {
        var length = 1
        var rest = value >> 7
        while rest != 0 {
            length += 1
            rest >>= 7
        }
        return length
    }

    /// Appends the minimal encoding of `value`.
    ///
    /// - Precondition: `value <= UVarint.maxValue` (a larger value is a bug in the caller, not peer input).
    public static func encode(_ value: UInt64, into bytes: inout [UInt8]) {
        precondition(value <= Self.maxValue, "uvarint value \(value) needs more than 9 bytes")
        Varint.append(value, to: &bytes)
    }

    /// Returns the minimal encoding of `value`.
    ///
    /// - Precondition: `value <= UVarint.maxValue`.
    public static func encode(_ value: UInt64) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.encodedLength(value))
        Self.encode(value, into: &bytes)
        return bytes
    }

    /// Decodes a varint at the start of `bytes`.
    ///
    /// - Returns: the value and the number of bytes it used, or `nil` when `bytes` ends before the
    ///   varint does (more input may complete it).
    /// - Throws: ``P2PCoreError`` with ``P2PCoreError/Code/varintNotMinimal`` or
    ///   ``P2PCoreError/Code/varintTooLong``.
    public static func decodePrefix<Bytes: Collection<UInt8>>(
        _ bytes: Bytes
    ) throws(P2PCoreError) -> (value: UInt64, length: Int)? {
        try Varint.decodePrefix(bytes, maxLength: Self.maxEncodedLength, requireMinimal: true)
    }

    /// Decodes a varint that must fill `bytes` exactly.
    ///
    /// - Throws: ``P2PCoreError`` when the varint is malformed, truncated, or followed by more bytes.
    public static func decode<Bytes: Collection<UInt8>>(_ bytes: Bytes) throws(P2PCoreError) -> UInt64 {
        guard let (value, length) = try Self.decodePrefix(bytes) else {
            throw P2PCoreError(.truncated, "uvarint is truncated after \(bytes.count) bytes")
        }
        guard length == bytes.count else {
            throw P2PCoreError(.invalidEncoding, "\(bytes.count - length) bytes follow the uvarint")
        }
        return value
    }
}

/// Shared base-128 varint code for multiformats varints (≤ 9 bytes, minimal) and protobuf varints
/// (≤ 10 bytes, any 64-bit value).
enum Varint {
    static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    static func decodePrefix<Bytes: Collection<UInt8>>(
        _ bytes: Bytes,
        maxLength: Int,
        requireMinimal: Bool
    ) throws(P2PCoreError) -> (value: UInt64, length: Int)? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        var length = 0
        for byte in bytes {
            length += 1
            let payload = UInt64(byte & 0x7F)
            if length == 10 {
                // Only the lowest bit of the tenth byte still fits in 64 bits.
                guard payload <= 1 else {
                    throw P2PCoreError(.varintTooLong, "varint overflows 64 bits")
                }
            }
            value |= payload << shift
            if byte & 0x80 == 0 {
                if requireMinimal && byte == 0 && length > 1 {
                    throw P2PCoreError(.varintNotMinimal, "varint of \(length) bytes ends in a zero byte")
                }
                return (value, length)
            }
            guard length < maxLength else {
                throw P2PCoreError(.varintTooLong, "varint is longer than \(maxLength) bytes")
            }
            shift += 7
        }
        return nil
    }
}
