/// One scheduled thing in a ``GossipSimulation``.
struct GossipSimulationEvent {
    enum Kind {
        /// Encoded RPC bytes (one frame body) arriving at `to` from `from`.
        case frame(from: Int32, to: Int32, bytes: [UInt8])
        /// A node's heartbeat.
        case heartbeat(Int32)
        /// The publish with this index.
        case publish(Int)
        /// The mesh check after this many heartbeat rounds.
        case meshCheck(Int)
    }

    /// Virtual nanoseconds since the start of the run.
    var time: Int64
    /// Insertion order: events at the same time run first in, first out (links stay in order).
    var sequence: UInt64
    var kind: Kind

    func runsBefore(_ other: Self) -> Bool {
        self.time != other.time ? self.time < other.time : self.sequence < other.sequence
    }
}

/// A binary min-heap of events ordered by time, then insertion order.
struct GossipSimulationEventQueue {
    private var heap: [GossipSimulationEvent] = []
    private var nextSequence: UInt64 = 0

    var isEmpty: Bool { self.heap.isEmpty }

    mutating func schedule(at time: Int64, _ kind: GossipSimulationEvent.Kind) {
        self.heap.append(GossipSimulationEvent(time: time, sequence: self.nextSequence, kind: kind))
        self.nextSequence += 1
        var child = self.heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard self.heap[child].runsBefore(self.heap[parent]) else { break }
            self.heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func next() -> GossipSimulationEvent? {
        guard !self.heap.isEmpty else { return nil }
        self.heap.swapAt(0, self.heap.count - 1)
        let first = self.heap.removeLast()
        var parent = 0
        let count = self.heap.count
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < count && self.heap[left].runsBefore(self.heap[smallest]) { smallest = left }
            if right < count && self.heap[right].runsBefore(self.heap[smallest]) { smallest = right }
            guard smallest != parent else { break }
            self.heap.swapAt(parent, smallest)
            parent = smallest
        }
        return first
    }
}
