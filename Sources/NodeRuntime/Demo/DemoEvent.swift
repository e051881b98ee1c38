public import PrivacyCore

/// What a running demo reports to its front end (the CLI prints these as text or JSON lines).
public enum DemoEvent: Hashable, Sendable {
    /// The demo network's parameters (label, epoch length, proof of work).
    case network(NetworkParameters)
    /// `started` of `total` synthetic peers listen.
    case startingPeers(started: Int, total: Int)
    /// The dashboard listens; `url` opens it (with the token in its fragment).
    case dashboard(url: String, port: Int)
    /// The user's node admitted `received` of the `expected` synthetic reports of this epoch.
    case reports(received: Int, expected: Int)
    /// The dashboard is populated `seconds` after the demo started; `readiness` says which parts show data.
    case ready(DemoReadiness, url: String, seconds: Double)
    /// Something failed that the demo keeps running through.
    case error(String)
}
