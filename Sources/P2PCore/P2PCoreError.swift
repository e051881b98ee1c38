/// The one error type thrown by ``P2PCore``.
///
/// Compare errors by ``code``; ``message`` is for people and may change. Two errors are equal when
/// their codes are equal. Every failure caused by bytes or text from outside (a peer, a user, a file)
/// is reported with this type and never traps.
public struct P2PCoreError: CodedError {
    /// What went wrong, in a form that code can switch over.
    public enum Code: Hashable, Sendable {
        /// A varint did not end within its maximum length (9 bytes for multiformats varints).
        case varintTooLong
        /// A varint used more bytes than needed (a trailing zero group).
        case varintNotMinimal
        /// The input ended in the middle of a value.
        case truncated
        /// The input is larger than the limit that applies to it.
        case tooLarge
        /// A protobuf message could not be decoded.
        case malformedProtobuf
        /// A key type that is known to libp2p but not implemented here (RSA, Secp256k1, ECDSA).
        case unsupportedKeyType
        /// Key bytes are malformed (wrong length, mismatching public half, unknown key type).
        case invalidKey
        /// A multihash is malformed or does not fit its code.
        case malformedMultihash
        /// A multihash function code other than identity (0x00) or sha2-256 (0x12).
        case unsupportedMultihash
        /// Bytes or text that are not a valid peer ID.
        case invalidPeerID
        /// Text that is not valid in its base encoding (base58btc, base32, base16, multibase prefix).
        case invalidEncoding
        /// A multiaddr that is malformed (bad value, missing value, trailing bytes).
        case invalidMultiaddr
        /// A multiaddr protocol that is not supported here.
        case unknownMultiaddrProtocol
        /// The peer broke the multistream-select protocol (wrong header, missing newline, unexpected message).
        case multistreamProtocolViolation
        /// The peer answered `na` to every protocol we proposed.
        case multistreamNoCommonProtocol
        /// The negotiation took too many messages or bytes.
        case multistreamLimitExceeded
        /// The connection closed before the operation finished.
        case connectionClosed
        /// The operation did not finish in time.
        case timedOut
    }

    /// The kind of failure.
    public let code: Code
    /// A human-readable explanation naming the problem.
    public let message: String
    /// The error that caused this one, if any.
    public let underlying: (any Error & Sendable)?
    /// Where the error was created.
    public let location: ErrorSourceLocation

    /// Creates an error. Prefer the static factories of each area.
    public init(
        _ code: Code,
        _ message: String,
        underlying: (any Error & Sendable)? = nil,
        fileID: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.underlying = underlying
        self.location = ErrorSourceLocation(fileID: fileID, line: line)
    }

}
