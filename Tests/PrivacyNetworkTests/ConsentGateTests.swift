import PrivacyCore
import Testing

@testable import PrivacyNetwork

@Suite("Consent gate")
struct ConsentGateTests {
    private func settings(
        join: Bool,
        share: Bool,
        region: Bool = false,
        max: Int = 10,
        reconnect: Bool = true
    )
        throws -> P2PSettings
    {
        try P2PSettings(
            joinPrivacyNetwork: join,
            shareAnonymousData: share,
            shareRegionalData: region,
            maxConnections: max,
            autoReconnect: reconnect
        )
    }

    @Test("The default settings open no socket and send nothing")
    func defaults() {
        let gate = ConsentGate(settings: P2PSettings())
        #expect(!gate.mayOpenSockets)
        #expect(!gate.maySendReports)
        #expect(gate.shareableRegion(.europe) == nil)
    }

    @Test("Sharing without joining sends nothing")
    func shareWithoutJoin() throws {
        let gate = ConsentGate(settings: try self.settings(join: false, share: true, region: true))
        #expect(!gate.mayOpenSockets)
        #expect(!gate.maySendReports)
        #expect(gate.shareableRegion(.asia) == nil)
    }

    @Test("Joined without sharing receives only")
    func listenOnly() throws {
        let gate = ConsentGate(settings: try self.settings(join: true, share: false))
        #expect(gate.mayOpenSockets)
        #expect(!gate.maySendReports)
    }

    @Test("The region is shareable only with regional sharing on")
    func region() throws {
        #expect(ConsentGate(settings: try self.settings(join: true, share: true)).shareableRegion(.europe) == nil)
        #expect(
            ConsentGate(settings: try self.settings(join: true, share: true, region: true)).shareableRegion(.europe)
                == .europe
        )
    }

    @Test("Joining starts the network and leaving stops it and cancels unsent reports")
    func joinLeave() throws {
        let off = ConsentGate(settings: P2PSettings())
        let joinedSettings = try self.settings(join: true, share: true)
        #expect(off.change(to: joinedSettings).network == .start)
        #expect(!off.change(to: joinedSettings).cancelUnsentReports)
        let leaving = ConsentGate(settings: joinedSettings).change(to: P2PSettings())
        #expect(leaving.network == .stop)
        #expect(leaving.cancelUnsentReports)
    }

    @Test("Turning sharing or regional sharing off cancels unsent reports; turning it on does not")
    func sharingOff() throws {
        let sharing = ConsentGate(settings: try self.settings(join: true, share: true, region: true))
        #expect(sharing.change(to: try self.settings(join: true, share: false)).cancelUnsentReports)
        #expect(sharing.change(to: try self.settings(join: true, share: true, region: false)).cancelUnsentReports)
        #expect(sharing.change(to: try self.settings(join: true, share: false)).network == .keep)
        let listening = ConsentGate(settings: try self.settings(join: true, share: false))
        #expect(!listening.change(to: try self.settings(join: true, share: true)).cancelUnsentReports)
    }

    @Test("A changed connection limit and reconnect flag are passed on; unchanged ones are not")
    func limits() throws {
        let gate = ConsentGate(settings: try self.settings(join: true, share: false, max: 10))
        let change = gate.change(to: try self.settings(join: true, share: false, max: 3, reconnect: false))
        #expect(change.connectionLimit == 3)
        #expect(change.autoReconnect == false)
        let same = gate.change(to: try self.settings(join: true, share: false, max: 10))
        #expect(same.connectionLimit == nil)
        #expect(same.autoReconnect == nil)
    }
}
