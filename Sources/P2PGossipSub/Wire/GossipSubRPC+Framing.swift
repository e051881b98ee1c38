public import NIOCore
import P2PCore

// On a pubsub stream every RPC is `<uvarint length><RPC protobuf>`; zero-length frames are empty RPCs.
// Receivers limit the frame size (go and py: 1 MiB); rust-libp2p closes the stream on RPCs over
// 64 KiB, so senders keep each frame at or below 64 KiB and split larger batches into several RPCs.

extension GossipSubRPC {
    /// The default send limit for one frame (length prefix included): 64 KiB, rust-libp2p's receive limit.
    public static let defaultMaxSendSize = 64 * 1024

    /// Reads one `<uvarint length><RPC>` frame from `buffer`.
    ///
    /// - Returns: the RPC, or `nil` (reader index unchanged) when the frame has not fully arrived.
    /// - Throws: ``GossipSubError/Code/tooLarge`` as soon as the announced length exceeds `maxSize`, or
    ///   ``GossipSubError/Code/malformedRPC`` for a bad length prefix (reader index unchanged in both
    ///   cases); ``GossipSubError/Code/malformedRPC`` for a bad body (the frame is consumed). Either way the
    ///   stream cannot be trusted any more.
    public static func readFrame(
        from buffer: inout ByteBuffer,
        maxSize: Int = Self.defaultMaxReceiveSize
    ) throws
        -> GossipSubRPC?
    {
        let body: ByteBuffer?
        do {
            body = try buffer.readUVarintLengthPrefixedSlice(maxLength: maxSize)
        } catch {
            if error.code == .tooLarge {
                throw GossipSubError(.tooLarge, "RPC frame: \(error.message)", underlying: error)
            }
            throw GossipSubError(.malformedRPC, "RPC frame length: \(error.message)", underlying: error)
        }
        guard let body else { return nil }
        return try GossipSubRPC(decoding: body.readableBytesView, maxSize: maxSize)
    }

    /// Writes the RPC as one or more length-prefixed frames, each at most `maxFrameSize` bytes.
    ///
    /// - Returns: the number of frames written.
    /// - Throws: ``GossipSubError/Code/tooLarge`` when a single message, PRUNE or subscription cannot fit
    ///   in one frame; nothing is written then.
    @discardableResult
    public func writeFrames(into buffer: inout ByteBuffer, maxFrameSize: Int = Self.defaultMaxSendSize) throws -> Int {
        let parts = try self.split(maxFrameSize: maxFrameSize)
        for part in parts {
            buffer.writeUVarintLengthPrefixed(part.encoded())
        }
        return parts.count
    }

    /// Splits the RPC into RPCs whose frames (length prefix included) are at most `maxFrameSize` bytes.
    ///
    /// Subscriptions, messages, GRAFTs and PRUNEs are kept whole; IHAVE, IWANT and IDONTWANT lists are cut
    /// into several entries when one is too long. Order is preserved. An empty RPC gives no parts.
    ///
    /// - Throws: ``GossipSubError/Code/tooLarge`` when one indivisible part does not fit.
    public func split(maxFrameSize: Int = Self.defaultMaxSendSize) throws -> [GossipSubRPC] {
        var splitter = Splitter(limit: maxFrameSize)
        for subscription in self.subscriptions {
            var writer = ProtobufWriter()
            subscription.encode(into: &writer)
            try splitter.add(size: writer.bytes.count, control: false, what: "subscription") {
                $0.subscriptions.append(subscription)
            }
        }
        for message in self.messages {
            try splitter.add(size: message.encoded().count, control: false, what: "message") {
                $0.messages.append(message)
            }
        }
        guard let control = self.control else { return splitter.finish() }
        for ihave in control.ihave {
            let topicSize = Self.fieldSize(ihave.topic.utf8.count)
            for chunk in try splitter.chunk(ihave.messageIDs, fixedSize: topicSize, what: "IHAVE") {
                let entry = GossipSubControl.IHave(topic: ihave.topic, messageIDs: chunk)
                try splitter.add(size: topicSize + Self.idsSize(chunk), control: true, what: "IHAVE") {
                    $0.controlOrEmpty.ihave.append(entry)
                }
            }
        }
        for iwant in control.iwant {
            for chunk in try splitter.chunk(iwant.messageIDs, fixedSize: 0, what: "IWANT") {
                try splitter.add(size: Self.idsSize(chunk), control: true, what: "IWANT") {
                    $0.controlOrEmpty.iwant.append(GossipSubControl.IWant(messageIDs: chunk))
                }
            }
        }
        for graft in control.graft {
            try splitter.add(size: Self.fieldSize(graft.topic.utf8.count), control: true, what: "GRAFT") {
                $0.controlOrEmpty.graft.append(graft)
            }
        }
        for prune in control.prune {
            var writer = ProtobufWriter()
            prune.encode(into: &writer)
            try splitter.add(size: writer.bytes.count, control: true, what: "PRUNE") {
                $0.controlOrEmpty.prune.append(prune)
            }
        }
        for idontwant in control.idontwant {
            for chunk in try splitter.chunk(idontwant.messageIDs, fixedSize: 0, what: "IDONTWANT") {
                try splitter.add(size: Self.idsSize(chunk), control: true, what: "IDONTWANT") {
                    $0.controlOrEmpty.idontwant.append(GossipSubControl.IDontWant(messageIDs: chunk))
                }
            }
        }
        return splitter.finish()
    }

    /// The size of a length-delimited field with a one-byte key and a body of `length` bytes.
    static func fieldSize(_ length: Int) -> Int {
        1 + UVarint.encodedLength(UInt64(length)) + length
    }

    static func idsSize(_ ids: [GossipMessageID]) -> Int {
        ids.reduce(0) { $0 + Self.fieldSize($1.bytes.count) }
    }

    private var controlOrEmpty: GossipSubControl {
        get { self.control ?? GossipSubControl() }
        set { self.control = newValue }
    }

    /// Greedy packing of parts into frames, with exact size accounting.
    private struct Splitter {
        let limit: Int
        var parts: [GossipSubRPC] = []
        var current = GossipSubRPC()
        var topSize = 0
        var controlSize = 0
        var isEmpty = true

        init(limit: Int) {
            self.limit = limit
        }

        func frameSize(top: Int, control: Int) -> Int {
            let body = top + (control > 0 ? GossipSubRPC.fieldSize(control) : 0)
            return UVarint.encodedLength(UInt64(body)) + body
        }

        mutating func add(size: Int, control: Bool, what: String, _ append: (inout GossipSubRPC) -> Void) throws {
            let fieldSize = GossipSubRPC.fieldSize(size)
            func fits(top: Int, control controlBody: Int) -> Bool {
                self.frameSize(top: top, control: controlBody) <= self.limit
            }
            let newTop = self.topSize + (control ? 0 : fieldSize)
            let newControl = self.controlSize + (control ? fieldSize : 0)
            if !fits(top: newTop, control: newControl) {
                guard fits(top: control ? 0 : fieldSize, control: control ? fieldSize : 0) else {
                    throw GossipSubError(
                        .tooLarge,
                        "a \(what) of \(size) bytes does not fit in a frame of \(self.limit) bytes"
                    )
                }
                self.flush()
                self.topSize = control ? 0 : fieldSize
                self.controlSize = control ? fieldSize : 0
            } else {
                self.topSize = newTop
                self.controlSize = newControl
            }
            append(&self.current)
            self.isEmpty = false
        }

        /// Cuts `ids` into lists that each fit in a frame of their own next to `fixedSize` bytes of fields.
        func chunk(_ ids: [GossipMessageID], fixedSize: Int, what: String) throws -> [[GossipMessageID]] {
            // Worst-case wrapping: frame prefix, control field, entry field (each key + 5-byte length).
            let budget = self.limit - fixedSize - 3 * 6
            var chunks: [[GossipMessageID]] = []
            var chunk: [GossipMessageID] = []
            var size = 0
            for id in ids {
                let idSize = GossipSubRPC.fieldSize(id.bytes.count)
                guard idSize <= budget else {
                    throw GossipSubError(
                        .tooLarge,
                        "a \(what) message ID of \(id.bytes.count) bytes does not fit in a frame of \(self.limit) bytes"
                    )
                }
                if size + idSize > budget {
                    chunks.append(chunk)
                    chunk = []
                    size = 0
                }
                chunk.append(id)
                size += idSize
            }
            chunks.append(chunk)
            return chunks
        }

        mutating func flush() {
            if !self.isEmpty {
                self.parts.append(self.current)
            }
            self.current = GossipSubRPC()
            self.topSize = 0
            self.controlSize = 0
            self.isEmpty = true
        }

        mutating func finish() -> [GossipSubRPC] {
            self.flush()
            return self.parts
        }
    }
}
