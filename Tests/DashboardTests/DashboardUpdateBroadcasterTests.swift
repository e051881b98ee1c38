import Dashboard
import Testing

@Suite("Dashboard update broadcaster")
struct DashboardUpdateBroadcasterTests {
    @Test("Every subscriber gets every update published after it subscribed, and the streams end on finish")
    func fanOut() async {
        let broadcaster = DashboardUpdateBroadcaster()
        let first = broadcaster.subscribe()
        broadcaster.publish(.status)
        let second = broadcaster.subscribe()
        #expect(broadcaster.subscriberCount == 2)
        broadcaster.publish(.peers)
        broadcaster.finish()
        var firstSeen: [DashboardUpdate] = []
        for await update in first { firstSeen.append(update) }
        var secondSeen: [DashboardUpdate] = []
        for await update in second { secondSeen.append(update) }
        #expect(firstSeen == [.status, .peers])
        #expect(secondSeen == [.peers])
        #expect(broadcaster.subscriberCount == 0)
        var late: [DashboardUpdate] = []
        for await update in broadcaster.subscribe() { late.append(update) }
        #expect(late.isEmpty)
    }

    @Test("A slow subscriber keeps only the newest updates up to its buffer limit")
    func bufferLimit() async {
        let broadcaster = DashboardUpdateBroadcaster(bufferLimit: 2)
        let stream = broadcaster.subscribe()
        for update in [DashboardUpdate.status, .statistics, .peers, .settings] {
            broadcaster.publish(update)
        }
        broadcaster.finish()
        var seen: [DashboardUpdate] = []
        for await update in stream { seen.append(update) }
        #expect(seen == [.peers, .settings])
    }

    @Test("A stream dropped by its reader unsubscribes")
    func droppedStreamUnsubscribes() {
        let broadcaster = DashboardUpdateBroadcaster()
        do {
            let stream = broadcaster.subscribe()
            _ = stream
            #expect(broadcaster.subscriberCount == 1)
        }
        #expect(broadcaster.subscriberCount == 0)
    }
}
