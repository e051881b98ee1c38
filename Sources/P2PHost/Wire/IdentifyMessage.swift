public import P2PCore

/// The identify protobuf (`/ipfs/id/1.0.0`, https://github.com/libp2p/specs/blob/master/identify/README.md).
///
/// ```protobuf
/// message Identify {
///   optional bytes publicKey = 1; repeated bytes listenAddrs = 2; repeated string protocols = 3;
///   optional bytes observedAddr = 4; optional string protocolVersion = 5; optional string agentVersion = 6;
///   optional bytes signedPeerRecord = 8;
/// }
/// ```
/// Unknown fields (and the signed peer record) are skipped; listen addresses we cannot parse are dropped.
public struct IdentifyMessage: Hashable, Sendable {
    /// The protocol version we announce.
    public static let defaultProtocolVersion = "ipfs/0.1.0"
    /// The largest single identify message accepted (rust-libp2p sends at most 4096 bytes; go reads 8 KiB).
    public static let maxMessageSize = 8 * 1024
    /// The most messages merged from one identify stream (go-libp2p: 10).
    public static let maxMessageCount = 10

    /// The sender's identity key.
    public var publicKey: PublicKey?
    /// The addresses the sender listens on (without `/p2p/`).
    public var listenAddresses: [Multiaddr]
    /// The protocols the sender accepts on inbound streams.
    public var protocols: [String]
    /// Our address as the sender sees it.
    public var observedAddress: Multiaddr?
    /// The protocol version, `ipfs/0.1.0`.
    public var protocolVersion: String?
    /// The implementation name and version, e.g. `phantom-trail/0.1.0`.
    public var agentVersion: String?

    /// Creates a message.
    public init(
        publicKey: PublicKey? = nil,
        listenAddresses: [Multiaddr] = [],
        protocols: [String] = [],
        observedAddress: Multiaddr? = nil,
        protocolVersion: String? = nil,
        agentVersion: String? = nil
    ) {
        self.publicKey = publicKey
        self.listenAddresses = listenAddresses
        self.protocols = protocols
        self.observedAddress = observedAddress
        self.protocolVersion = protocolVersion
        self.agentVersion = agentVersion
    }

    /// The protobuf encoding (without a length prefix).
    public var encoded: [UInt8] {
        var writer = ProtobufWriter()
        if let publicKey {
            writer.writeBytes(field: 1, publicKey.protobufEncoded)
        }
        for address in self.listenAddresses {
            writer.writeBytes(field: 2, address.bytes)
        }
        for protocolID in self.protocols {
            writer.writeString(field: 3, protocolID)
        }
        if let observedAddress {
            writer.writeBytes(field: 4, observedAddress.bytes)
        }
        if let protocolVersion {
            writer.writeString(field: 5, protocolVersion)
        }
        if let agentVersion {
            writer.writeString(field: 6, agentVersion)
        }
        return writer.bytes
    }

    /// Applies an identify push (`/ipfs/id/push/1.0.0`): a push may be partial, so what it leaves out stays as it
    /// was. Fields it sets replace ours; a non-empty list of listen addresses or protocols replaces the whole list.
    public mutating func apply(push: IdentifyMessage) {
        if let publicKey = push.publicKey { self.publicKey = publicKey }
        if !push.listenAddresses.isEmpty { self.listenAddresses = push.listenAddresses }
        if !push.protocols.isEmpty { self.protocols = push.protocols }
        if let observedAddress = push.observedAddress { self.observedAddress = observedAddress }
        if let protocolVersion = push.protocolVersion { self.protocolVersion = protocolVersion }
        if let agentVersion = push.agentVersion { self.agentVersion = agentVersion }
    }

    /// Decodes one message and merges it into `self`: set fields replace, repeated fields append.
    public mutating func merge<Bytes: Collection<UInt8>>(encoded bytes: Bytes) throws(P2PHostError) {
        guard bytes.count <= Self.maxMessageSize else {
            throw P2PHostError(
                .messageTooLarge,
                "identify message of \(bytes.count) bytes exceeds \(Self.maxMessageSize) bytes"
            )
        }
        do {
            var reader = try ProtobufReader(bytes, maxMessageSize: Self.maxMessageSize)
            while let field = try reader.next() {
                switch field.number {
                case 1: self.publicKey = try PublicKey(protobufEncoded: field.bytesValue())
                case 2:
                    if let address = try? Multiaddr(bytes: field.bytesValue()) {
                        self.listenAddresses.append(address)
                    }
                case 3: self.protocols.append(try field.stringValue())
                case 4: self.observedAddress = try? Multiaddr(bytes: field.bytesValue())
                case 5: self.protocolVersion = try field.stringValue()
                case 6: self.agentVersion = try field.stringValue()
                default: continue
                }
            }
        } catch let error as P2PHostError {
            throw error
        } catch {
            throw P2PHostError(.protocolViolation, "malformed identify message", underlying: error)
        }
    }
}
