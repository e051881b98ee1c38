import ArgumentParser

/// The `phantom-trail` command: the community node and its tools.
@main
struct PhantomTrail: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "phantom-trail",
        abstract: "Phantom Trail Community: compare your privacy with other users, anonymously, peer to peer.",
        version: PhantomTrailVersion.current,
        subcommands: [
            AnonymizeCommand.self, InsightsCommand.self, P2PCommand.self, SimulateCommand.self, NativeHostCommand.self,
            NodeCommand.self,
            DemoCommand.self,
        ]
    )
}

enum PhantomTrailVersion {
    static let current = "0.1.0"
}
