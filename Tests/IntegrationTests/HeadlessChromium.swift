import Foundation
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: the
/// browser reads commands on descriptor 3 and writes answers and events on descriptor 4, each message a
/// JSON text ended by a NUL byte). No port is opened for DevTools.
///
/// The browser runs in its own process group with a fresh profile in a temporary directory; ``stop()``
/// kills that group (the browser and every helper process it started) and removes the profile. Host
/// names other than `localhost` do not resolve inside the browser, so it cannot reach anything but this
/// machine.
final class HeadlessChromium: Sendable {
    /// The browser's process id (also its process group id).
    let processID: pid_t
    /// The DevTools connection.
    let devTools: DevToolsConnection
    /// The temporary directory holding the profile and the browser's log.
    let directory: URL
    private let stopped = Mutex(false)

    private init(processID: pid_t, devTools: DevToolsConnection, directory: URL) {
        self.processID = processID
        self.devTools = devTools
        self.directory = directory
    }

    /// The browser to run: `PHANTOM_TRAIL_CHROMIUM`, else `chromium` (Debian's package) or another Chromium
    /// build on the PATH. Missing is a test failure with instructions, never a skip.
    static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        let fileManager = FileManager.default
        if let path = environment["PHANTOM_TRAIL_CHROMIUM"], !path.isEmpty {
            guard fileManager.isExecutableFile(atPath: path) else {
                throw IntegrationFailure(description: "PHANTOM_TRAIL_CHROMIUM=\(path) is not an executable")
            }
            return path
        }
        let directories = (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":")
        for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
            for directory in directories {
                let path = "\(directory)/\(name)"
                if fileManager.isExecutableFile(atPath: path) { return path }
            }
        }
        let where_ = environment["CI"] == "true" ? "CI (CI=true)" : "this machine"
        throw IntegrationFailure(
            description: """
                Chromium is missing on \(where_): the browser tests need it and are never skipped. Install \
                Debian's package (apt-get update && apt-get install -y chromium; .ci/run does this when \
                `command -v chromium` fails) or set PHANTOM_TRAIL_CHROMIUM to a Chromium binary.
                """
        )
    }

    /// Starts a headless browser with a blank page in a window of `width` × `height` CSS pixels.
    static func launch(width: Int = 1280, height: Int = 2400) async throws -> HeadlessChromium {
        let executable = try Self.locate()
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("phantom-trail-chromium-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let arguments = [
            executable,
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--user-data-dir=\(directory.appendingPathComponent("profile").path)",
            "--remote-debugging-pipe",
            "--window-size=\(width),\(height)", "--hide-scrollbars", "--force-device-scale-factor=1",
            "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
            "--disable-background-networking", "--disable-component-update", "--disable-default-apps",
            "--disable-domain-reliability", "--disable-client-side-phishing-detection", "--no-pings",
            "--mute-audio", "--password-store=basic", "--use-mock-keychain",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
            "about:blank",
        ]
        let log = directory.appendingPathComponent("chromium.log")

        // toBrowser: we write, the browser reads (its fd 3). fromBrowser: the browser writes (its fd 4).
        let toBrowser = try Self.makePipe()
        let fromBrowser = try Self.makePipe()
        let processID: pid_t
        do {
            processID = try Self.spawn(
                arguments: arguments,
                log: log.path,
                commandsIn: toBrowser.read,
                answersOut: fromBrowser.write
            )
        } catch {
            for descriptor in [toBrowser.read, toBrowser.write, fromBrowser.read, fromBrowser.write] {
                close(descriptor)
            }
            throw error
        }
        close(toBrowser.read)
        close(fromBrowser.write)

        let events = DevToolsEventLog()
        let channel: any Channel
        do {
            channel = try await NIOPipeBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers(
                            ByteToMessageHandler(DevToolsFrameDecoder()),
                            DevToolsClientHandler(log: events)
                        )
                    }
                }
                .takingOwnershipOfDescriptors(input: fromBrowser.read, output: toBrowser.write)
                .get()
        } catch {
            close(fromBrowser.read)
            close(toBrowser.write)
            Self.killGroup(processID: processID)
            throw error
        }
        return HeadlessChromium(
            processID: processID,
            devTools: DevToolsConnection(channel: channel, events: events),
            directory: directory
        )
    }

    /// The end of the browser's own log (stdout and stderr), for failure messages.
    var logTail: String {
        let text = (try? String(contentsOf: self.directory.appendingPathComponent("chromium.log"), encoding: .utf8))
        return String((text ?? "").suffix(3000))
    }

    /// Kills the browser's process group, reaps the browser and removes the profile. Safe to call twice.
    func stop() {
        let first = self.stopped.withLock { stopped in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        self.devTools.channel.close(promise: nil)
        Self.killGroup(processID: self.processID)
        try? FileManager.default.removeItem(at: self.directory)
    }

    deinit {
        self.stop()
    }

    private static func killGroup(processID: pid_t) {
        // The group holds the browser and its helpers (zygote, renderer, utility processes).
        _ = kill(-processID, SIGKILL)
        var status: Int32 = 0
        while waitpid(processID, &status, 0) == -1, errno == EINTR {}
    }

    /// A close-on-exec pipe whose descriptors are 64 or above (clear of the 3 and 4 the browser uses).
    private static func makePipe() throws -> (read: Int32, write: Int32) {
        var descriptors: [Int32] = [-1, -1]
        guard pipe(&descriptors) == 0 else {
            throw IntegrationFailure(description: "pipe failed: errno \(errno)")
        }
        var moved: [Int32] = []
        for descriptor in descriptors {
            let high = fcntl(descriptor, F_DUPFD_CLOEXEC, 64)
            close(descriptor)
            moved.append(high)
        }
        guard moved.allSatisfy({ $0 >= 0 }) else {
            for descriptor in moved where descriptor >= 0 {
                close(descriptor)
            }
            throw IntegrationFailure(description: "fcntl(F_DUPFD_CLOEXEC) failed: errno \(errno)")
        }
        return (moved[0], moved[1])
    }

    /// Starts `arguments` in a new process group: stdin from /dev/null, stdout and stderr to `log`,
    /// `commandsIn` as descriptor 3 and `answersOut` as descriptor 4 (our other descriptors are close-on-exec).
    private static func spawn(arguments: [String], log: String, commandsIn: Int32, answersOut: Int32) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_adddup2(&actions, commandsIn, 3)
        posix_spawn_file_actions_adddup2(&actions, answersOut, 4)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD] {
            sigaddset(&defaultSignals, signal)
        }
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes,
            Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        )

        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer {
            for argument in argv {
                free(argument)
            }
        }
        var processID: pid_t = 0
        let result = posix_spawn(&processID, arguments[0], &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw IntegrationFailure(description: "could not start \(arguments[0]): errno \(result)")
        }
        return processID
    }
}
