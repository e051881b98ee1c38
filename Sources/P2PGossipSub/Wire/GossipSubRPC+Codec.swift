import P2PCore

// Field numbers from the pubsub RPC protobuf (https://github.com/libp2p/specs/blob/master/pubsub/README.md)
// and the gossipsub control messages (gossipsub-v1.0.md, -v1.1.md, -v1.2.md). Fields are written in
// ascending field-number order with no unknown fields; unknown fields are skipped when decoding
// (py-libp2p adds a `senderRecord = 4` to every RPC).

extension GossipSubRPC {
    /// The default receive limit for one RPC: 1 MiB, as in go-libp2p and py-libp2p.
    public static let defaultMaxReceiveSize = 1 << 20

    /// The protobuf encoding of the RPC (without a length prefix).
    public func encoded() -> [UInt8] {
        var writer = ProtobufWriter()
        for subscription in self.subscriptions {
            writer.writeMessage(field: 1) { subscription.encode(into: &$0) }
        }
        for message in self.messages {
            writer.writeBytes(field: 2, message.encoded())
        }
        if let control = self.control {
            writer.writeMessage(field: 3) { control.encode(into: &$0) }
        }
        return writer.bytes
    }

    /// Decodes an RPC protobuf.
    ///
    /// - Throws: ``GossipSubError/Code/tooLarge`` when `bytes` exceeds `maxSize`;
    ///   ``GossipSubError/Code/malformedRPC`` naming the part that is broken.
    public init<Bytes: Collection<UInt8>>(decoding bytes: Bytes, maxSize: Int = Self.defaultMaxReceiveSize) throws {
        guard bytes.count <= maxSize else {
            throw GossipSubError(.tooLarge, "RPC of \(bytes.count) bytes exceeds the limit of \(maxSize)")
        }
        self.init()
        try Self.decodeFields(bytes, maxSize: maxSize, what: "RPC") { field in
            switch field.number {
            case 1: self.subscriptions.append(try Subscription(decoding: try field.bytesValue()))
            case 2: self.messages.append(try GossipMessage(decoding: try field.bytesValue()))
            case 3: self.control = try GossipSubControl(decoding: try field.bytesValue())
            default: break
            }
        }
    }

    /// Runs `body` for each field, turning ``P2PCoreError``s into ``GossipSubError/Code/malformedRPC``.
    static func decodeFields<Bytes: Collection<UInt8>>(
        _ bytes: Bytes,
        maxSize: Int = Self.defaultMaxReceiveSize,
        what: String,
        _ body: (ProtobufField) throws -> Void
    ) throws {
        do {
            var reader = try ProtobufReader(bytes, maxMessageSize: maxSize)
            while let field = try reader.next() {
                try body(field)
            }
        } catch let error as GossipSubError {
            throw error
        } catch let error as P2PCoreError {
            throw GossipSubError(.malformedRPC, "\(what): \(error.message)", underlying: error)
        }
    }
}

extension GossipSubRPC.Subscription {
    func encode(into writer: inout ProtobufWriter) {
        writer.writeBool(field: 1, self.subscribe)
        writer.writeString(field: 2, self.topic)
    }

    init(decoding bytes: ArraySlice<UInt8>) throws {
        var subscribe: Bool?
        var topic: String?
        try GossipSubRPC.decodeFields(bytes, what: "SubOpts") { field in
            switch field.number {
            case 1: subscribe = try field.boolValue()
            case 2: topic = try field.stringValue()
            default: break
            }
        }
        guard let topic else {
            throw GossipSubError(.malformedRPC, "SubOpts has no topic")
        }
        // An absent `subscribe` is proto2's default, false.
        self.init(subscribe: subscribe ?? false, topic: topic)
    }
}

extension GossipMessage {
    /// The protobuf encoding of the message.
    public func encoded() -> [UInt8] {
        self.encoded(includingSignatureAndKey: true)
    }

    /// The protobuf of the message, optionally without `signature` and `key` (the bytes that are signed).
    func encoded(includingSignatureAndKey: Bool) -> [UInt8] {
        var writer = ProtobufWriter()
        if let from = self.from { writer.writeBytes(field: 1, from) }
        if let data = self.data { writer.writeBytes(field: 2, data) }
        if let seqno = self.seqno { writer.writeBytes(field: 3, seqno) }
        writer.writeString(field: 4, self.topic)
        if includingSignatureAndKey {
            if let signature = self.signature { writer.writeBytes(field: 5, signature) }
            if let key = self.key { writer.writeBytes(field: 6, key) }
        }
        return writer.bytes
    }

    /// Decodes a `Message` protobuf.
    ///
    /// - Throws: ``GossipSubError/Code/malformedRPC`` for bad protobuf, a missing or non-UTF-8 topic.
    public init<Bytes: Collection<UInt8>>(decoding bytes: Bytes) throws {
        var from: [UInt8]?
        var data: [UInt8]?
        var seqno: [UInt8]?
        var topic: String?
        var signature: [UInt8]?
        var key: [UInt8]?
        try GossipSubRPC.decodeFields(bytes, what: "Message") { field in
            switch field.number {
            case 1: from = Array(try field.bytesValue())
            case 2: data = Array(try field.bytesValue())
            case 3: seqno = Array(try field.bytesValue())
            case 4: topic = try field.stringValue()
            case 5: signature = Array(try field.bytesValue())
            case 6: key = Array(try field.bytesValue())
            default: break
            }
        }
        guard let topic else {
            throw GossipSubError(.malformedRPC, "Message has no topic")
        }
        self.init(from: from, data: data, seqno: seqno, topic: topic, signature: signature, key: key)
    }
}

extension GossipSubControl {
    func encode(into writer: inout ProtobufWriter) {
        for ihave in self.ihave {
            writer.writeMessage(field: 1) { ihave.encode(into: &$0) }
        }
        for iwant in self.iwant {
            writer.writeMessage(field: 2) { Self.encodeIDs(iwant.messageIDs, field: 1, into: &$0) }
        }
        for graft in self.graft {
            writer.writeMessage(field: 3) { $0.writeString(field: 1, graft.topic) }
        }
        for prune in self.prune {
            writer.writeMessage(field: 4) { prune.encode(into: &$0) }
        }
        for idontwant in self.idontwant {
            writer.writeMessage(field: 5) { Self.encodeIDs(idontwant.messageIDs, field: 1, into: &$0) }
        }
    }

    static func encodeIDs(_ ids: [GossipMessageID], field: Int, into writer: inout ProtobufWriter) {
        for id in ids {
            writer.writeBytes(field: field, id.bytes)
        }
    }

    init(decoding bytes: ArraySlice<UInt8>) throws {
        self.init()
        try GossipSubRPC.decodeFields(bytes, what: "ControlMessage") { field in
            switch field.number {
            case 1: self.ihave.append(try IHave(decoding: try field.bytesValue()))
            case 2: self.iwant.append(IWant(messageIDs: try Self.decodeIDs(try field.bytesValue(), field: 1, "IWANT")))
            case 3: self.graft.append(Graft(topic: try Self.decodeTopic(try field.bytesValue(), "GRAFT")))
            case 4: self.prune.append(try Prune(decoding: try field.bytesValue()))
            case 5:
                let ids = try Self.decodeIDs(try field.bytesValue(), field: 1, "IDONTWANT")
                self.idontwant.append(IDontWant(messageIDs: ids))
            default: break
            }
        }
    }

    static func decodeIDs(_ bytes: ArraySlice<UInt8>, field number: Int, _ what: String) throws -> [GossipMessageID] {
        var ids: [GossipMessageID] = []
        try GossipSubRPC.decodeFields(bytes, what: what) { field in
            if field.number == number {
                ids.append(GossipMessageID(Array(try field.bytesValue())))
            }
        }
        return ids
    }

    static func decodeTopic(_ bytes: ArraySlice<UInt8>, _ what: String) throws -> String {
        var topic: String?
        try GossipSubRPC.decodeFields(bytes, what: what) { field in
            if field.number == 1 {
                topic = try field.stringValue()
            }
        }
        guard let topic else {
            throw GossipSubError(.malformedRPC, "\(what) has no topic")
        }
        return topic
    }
}

extension GossipSubControl.IHave {
    func encode(into writer: inout ProtobufWriter) {
        writer.writeString(field: 1, self.topic)
        GossipSubControl.encodeIDs(self.messageIDs, field: 2, into: &writer)
    }

    init(decoding bytes: ArraySlice<UInt8>) throws {
        var topic: String?
        var ids: [GossipMessageID] = []
        try GossipSubRPC.decodeFields(bytes, what: "IHAVE") { field in
            switch field.number {
            case 1: topic = try field.stringValue()
            case 2: ids.append(GossipMessageID(Array(try field.bytesValue())))
            default: break
            }
        }
        guard let topic else {
            throw GossipSubError(.malformedRPC, "IHAVE has no topic")
        }
        self.init(topic: topic, messageIDs: ids)
    }
}

extension GossipSubControl.Prune {
    func encode(into writer: inout ProtobufWriter) {
        writer.writeString(field: 1, self.topic)
        for peer in self.peers {
            writer.writeMessage(field: 2) { inner in
                if let peerID = peer.peerID { inner.writeBytes(field: 1, peerID) }
                if let record = peer.signedPeerRecord { inner.writeBytes(field: 2, record) }
            }
        }
        if let backoff = self.backoff {
            writer.writeVarint(field: 3, backoff)
        }
    }

    init(decoding bytes: ArraySlice<UInt8>) throws {
        var topic: String?
        var peers: [GossipSubControl.PeerInfo] = []
        var backoff: UInt64?
        try GossipSubRPC.decodeFields(bytes, what: "PRUNE") { field in
            switch field.number {
            case 1: topic = try field.stringValue()
            case 2:
                var peer = GossipSubControl.PeerInfo(peerID: nil)
                try GossipSubRPC.decodeFields(try field.bytesValue(), what: "PeerInfo") { inner in
                    switch inner.number {
                    case 1: peer.peerID = Array(try inner.bytesValue())
                    case 2: peer.signedPeerRecord = Array(try inner.bytesValue())
                    default: break
                    }
                }
                peers.append(peer)
            case 3: backoff = try field.varintValue()
            default: break
            }
        }
        guard let topic else {
            throw GossipSubError(.malformedRPC, "PRUNE has no topic")
        }
        self.init(topic: topic, peers: peers, backoff: backoff)
    }
}
