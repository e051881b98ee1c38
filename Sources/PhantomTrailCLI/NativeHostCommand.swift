import ArgumentParser
import Foundation
import NodeRuntime

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `phantom-trail native-host`: the browser extension's bridge to the running node (native messaging).
struct NativeHostCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "native-host",
        abstract: "The native messaging host that lets the browser extension talk to the local node.",
        subcommands: [Serve.self, Install.self],
        defaultSubcommand: Serve.self
    )
}

extension NativeHostCommand {
    /// Serves native messages on stdin/stdout (what the browser starts).
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve",
            abstract: "Answer native messages on stdin/stdout (the browser starts this; it is the default).",
            discussion: """
                Each message is a 32-bit native-order length and UTF-8 JSON (at most 1 MiB in, 1 MB out). \
                Requests: {"id": …, "type": "getStatus" | "getStats" | "getComparison" | "getInsights" | \
                "submitReport" (with "report") | "updateSettings" (with "settings")}. Replies: \
                {"id", "type", "ok": true, "result"} or {"id", "type", "ok": false, "error": {"code", "message"}}. \
                Requests go to the node running on this data directory; with none, the reply is the error \
                node_not_running.
                """
        )

        @Option(help: "The data directory shared with the node (default: the platform's data directory).")
        var dataDir: String?

        @Argument(help: .hidden)
        var browserArguments: [String] = []

        func run() async throws {
            let directory = try DataDirectory.resolve(
                override: self.dataDir,
                environment: ProcessInfo.processInfo.environment,
                currentDirectory: FileManager.default.currentDirectoryPath
            )
            // A browser that goes away closes our stdout: report a write error instead of dying of SIGPIPE.
            signal(SIGPIPE, SIG_IGN)
            let dispatcher = NativeMessageDispatcher(control: LocalNodeClient(directory: directory))
            _ = try await NativeHost.run(input: NativeHost.inputChunks(), dispatcher: dispatcher) { reply in
                try NativeHost.writeAll(reply)
            }
        }
    }

    /// Writes the host manifest for a browser.
    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "install",
            abstract: "Register the native messaging host with a browser (per user).",
            discussion: """
                Writes ~/…/NativeMessagingHosts/com.phantomtrail.community.json where the browser looks for it, \
                and a launcher script in the data directory that runs this binary's native-host command.
                """
        )

        @Option(
            help: "The browser: chrome, chromium or firefox.",
            transform: { text in
                guard let browser = NativeHostInstaller.Browser(rawValue: text) else {
                    throw ValidationError("unknown browser \"\(text)\" (use chrome, chromium or firefox)")
                }
                return browser
            }
        )
        var browser: NativeHostInstaller.Browser

        @Option(help: "The extension's ID (Chrome: 32 letters a–p; Firefox: the gecko id, e.g. name@example.org).")
        var extensionId: String

        @Option(help: "The data directory the host should use (default: the platform's data directory).")
        var dataDir: String?

        @Flag(help: "Print what would be written without writing anything.")
        var dryRun = false

        func validate() throws {
            do {
                try NativeHostInstaller.validateExtensionID(self.extensionId, for: self.browser)
            } catch {
                throw ValidationError(error.message)
            }
        }

        func run() throws {
            let environment = ProcessInfo.processInfo.environment
            let directory = try DataDirectory.resolve(
                override: self.dataDir,
                environment: environment,
                currentDirectory: FileManager.default.currentDirectoryPath
            )
            guard let home = environment["HOME"], home.hasPrefix("/") else {
                throw ValidationError("HOME is not set to an absolute path")
            }
            let plan = try NativeHostInstaller.plan(
                browser: self.browser,
                extensionID: self.extensionId,
                executablePath: Self.executablePath(),
                dataDirectory: self.dataDir == nil ? nil : directory.path,
                launcherDirectory: directory.path + "/native-host",
                home: home
            )
            if self.dryRun {
                print("Would write \(plan.launcherPath) (mode 0700):\n\(plan.launcher)")
                print("Would write \(plan.manifestPath) (mode 0644):\n\(plan.manifest)", terminator: "")
                return
            }
            try NativeHostInstaller.install(plan)
            print("Wrote \(plan.launcherPath)")
            print("Wrote \(plan.manifestPath)")
            print("The extension can now connect to \(NativeHostInstaller.hostName).")
        }

        /// This binary's absolute path.
        private static func executablePath() -> String {
            let path = Bundle.main.executableURL?.resolvingSymlinksInPath().path ?? CommandLine.arguments[0]
            if path.hasPrefix("/") { return path }
            return FileManager.default.currentDirectoryPath + "/" + path
        }
    }
}
