import NIOCore
import P2PCore

/// A binary min-heap of `(deadline, peer)` pairs ordered by deadline, then peer.
///
/// The connection manager keeps one entry per moment a connection became idle and checks an entry against its
/// connection table only when the entry reaches the top ("lazy deletion"), so an event costs O(log n) instead of a
/// scan of every connection.
struct IdleDeadlineHeap {
    /// One pending idle deadline.
    struct Entry: Equatable {
        var deadline: NIODeadline
        var peer: PeerID

        fileprivate static func < (lhs: Entry, rhs: Entry) -> Bool {
            (lhs.deadline, lhs.peer) < (rhs.deadline, rhs.peer)
        }
    }

    private var entries: [Entry] = []

    /// The number of entries, stale ones included.
    var count: Int { self.entries.count }

    /// The earliest entry.
    var first: Entry? { self.entries.first }

    /// Adds an entry.
    mutating func insert(_ entry: Entry) {
        self.entries.append(entry)
        var child = self.entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard self.entries[child] < self.entries[parent] else { break }
            self.entries.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest entry.
    @discardableResult
    mutating func removeFirst() -> Entry? {
        guard !self.entries.isEmpty else { return nil }
        self.entries.swapAt(0, self.entries.count - 1)
        let first = self.entries.removeLast()
        self.siftDown(from: 0)
        return first
    }

    /// Removes the entries for which `isStale` holds.
    mutating func removeAll(where isStale: (Entry) -> Bool) {
        self.entries.removeAll(where: isStale)
        var index = self.entries.count / 2
        while index > 0 {
            index -= 1
            self.siftDown(from: index)
        }
    }

    private mutating func siftDown(from start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < self.entries.count else { return }
            var smallest = left
            let right = left + 1
            if right < self.entries.count, self.entries[right] < self.entries[left] { smallest = right }
            guard self.entries[smallest] < self.entries[parent] else { return }
            self.entries.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
