/// Protobuf wire types (https://protobuf.dev/programming-guides/encoding/#structure).
///
/// Groups (wire types 3 and 4) are deprecated and rejected by ``ProtobufReader``.
public enum ProtobufWireType: UInt8, Hashable, Sendable {
    /// int32, int64, uint32, uint64, sint32, sint64, bool, enum.
    case varint = 0
    /// fixed64, sfixed64, double.
    case fixed64 = 1
    /// string, bytes, embedded messages, packed repeated fields.
    case lengthDelimited = 2
    /// fixed32, sfixed32, float.
    case fixed32 = 5
}

/// One decoded protobuf field: its number and its raw value.
public struct ProtobufField: Hashable, Sendable {
    /// The value of a field, as found on the wire.
    public enum Value: Hashable, Sendable {
        /// A varint (wire type 0).
        case varint(UInt64)
        /// A little-endian 64-bit value (wire type 1).
        case fixed64(UInt64)
        /// A length-delimited value (wire type 2): bytes, a string or an embedded message.
        case lengthDelimited(ArraySlice<UInt8>)
        /// A little-endian 32-bit value (wire type 5).
        case fixed32(UInt32)
    }

    /// The field number (1 to 2^29 − 1).
    public var number: Int
    /// The field's value.
    public var value: Value

    /// The value as an unsigned integer, or an error naming the field if it has another wire type.
    public func varintValue() throws -> UInt64 {
        guard case .varint(let value) = self.value else {
            throw P2PCoreError(.malformedProtobuf, "field \(self.number) should be a varint")
        }
        return value
    }

    /// The value as bytes, or an error naming the field if it has another wire type.
    public func bytesValue() throws -> ArraySlice<UInt8> {
        guard case .lengthDelimited(let bytes) = self.value else {
            throw P2PCoreError(.malformedProtobuf, "field \(self.number) should be length-delimited")
        }
        return bytes
    }

    /// The value as a UTF-8 string, or an error if it has another wire type or is not valid UTF-8.
    public func stringValue() throws -> String {
        let bytes = try self.bytesValue()
        guard let string = UTF8Text.decode(bytes) else {
            throw P2PCoreError(.malformedProtobuf, "field \(self.number) is not valid UTF-8")
        }
        return string
    }

    /// The value as a bool (any non-zero varint is `true`).
    public func boolValue() throws -> Bool {
        try self.varintValue() != 0
    }
}
