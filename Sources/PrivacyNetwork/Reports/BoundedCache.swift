import NIOCore

/// A map that keeps at most `capacity` entries and forgets the oldest insertion first (FIFO).
struct BoundedCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    /// The most entries kept.
    let capacity: Int
    private var values: [Key: Value] = [:]
    private var order = CircularBuffer<Key>()

    /// An empty cache holding at most `capacity` (at least 1) entries.
    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// The number of entries.
    var count: Int { self.values.count }

    /// The value for `key`, if it is still remembered.
    subscript(key: Key) -> Value? { self.values[key] }

    /// Whether `key` is remembered.
    func contains(_ key: Key) -> Bool { self.values[key] != nil }

    /// Remembers `value` for `key`, forgetting the oldest entry when full. Returns false if `key` was present
    /// (its value is replaced, its age kept).
    @discardableResult
    mutating func insert(_ key: Key, _ value: Value) -> Bool {
        if self.values.updateValue(value, forKey: key) != nil {
            return false
        }
        self.order.append(key)
        while self.order.count > self.capacity {
            self.values[self.order.removeFirst()] = nil
        }
        return true
    }

    /// Forgets `key`.
    mutating func remove(_ key: Key) {
        guard self.values.removeValue(forKey: key) != nil else { return }
        if let index = self.order.firstIndex(of: key) {
            self.order.remove(at: index)
        }
    }
}
