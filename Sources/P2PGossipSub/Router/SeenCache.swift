import NIOCore

/// Message IDs seen recently, each forgotten `ttl` after it was first seen.
struct SeenCache {
    private var expiries: [GossipMessageID: NIODeadline] = [:]
    private var order: [(id: GossipMessageID, expiry: NIODeadline)] = []
    private var head = 0
    let ttl: TimeAmount

    init(ttl: TimeAmount) {
        self.ttl = ttl
    }

    var count: Int { self.expiries.count }

    func contains(_ id: GossipMessageID) -> Bool {
        self.expiries[id] != nil
    }

    /// Records `id`; returns `false` if it was already there.
    mutating func insert(_ id: GossipMessageID, now: NIODeadline) -> Bool {
        guard self.expiries[id] == nil else { return false }
        let expiry = now + self.ttl
        self.expiries[id] = expiry
        self.order.append((id, expiry))
        return true
    }

    /// Forgets IDs whose time is up.
    mutating func expire(now: NIODeadline) {
        while self.head < self.order.count, self.order[self.head].expiry <= now {
            let (id, expiry) = self.order[self.head]
            if self.expiries[id] == expiry {
                self.expiries[id] = nil
            }
            self.head += 1
        }
        if self.head > 1024 && self.head * 2 > self.order.count {
            self.order.removeFirst(self.head)
            self.head = 0
        }
    }
}
