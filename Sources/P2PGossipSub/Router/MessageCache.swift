import P2PCore

// https://github.com/libp2p/specs/blob/master/pubsub/gossipsub/gossipsub-v1.0.md#message-cache

/// The sliding window of recent messages: served to IWANT and advertised in IHAVE.
struct MessageCache {
    private struct Entry {
        var message: GossipMessage
        var transmissions: [PeerID: Int] = [:]
    }

    private var entries: [GossipMessageID: Entry] = [:]
    /// Newest window first.
    private var windows: [[(id: GossipMessageID, topic: String)]]
    let gossipWindows: Int

    init(historyLength: Int, historyGossip: Int) {
        self.windows = Array(repeating: [], count: max(historyLength, 1))
        self.gossipWindows = historyGossip
    }

    var count: Int { self.entries.count }

    func contains(_ id: GossipMessageID) -> Bool {
        self.entries[id] != nil
    }

    mutating func put(_ id: GossipMessageID, _ message: GossipMessage) {
        guard self.entries[id] == nil else { return }
        self.entries[id] = Entry(message: message)
        self.windows[0].append((id, message.topic))
    }

    /// The message for an IWANT from `peer`, or `nil` if unknown or already sent `limit` times to that peer.
    mutating func message(for id: GossipMessageID, peer: PeerID, limit: Int) -> GossipMessage? {
        guard var entry = self.entries[id] else { return nil }
        let sent = entry.transmissions[peer, default: 0]
        guard sent < limit else { return nil }
        entry.transmissions[peer] = sent + 1
        self.entries[id] = entry
        return entry.message
    }

    /// The IDs of `topic` in the gossip windows, newest first.
    func gossipIDs(topic: String) -> [GossipMessageID] {
        self.windows.prefix(self.gossipWindows).flatMap { window in
            window.lazy.filter { $0.topic == topic }.map(\.id)
        }
    }

    /// Drops the oldest window and opens a new one.
    mutating func shift() {
        for (id, _) in self.windows.removeLast() {
            self.entries[id] = nil
        }
        self.windows.insert([], at: 0)
    }
}
