import Foundation

/// Installs the native messaging host for a browser: a host manifest where the browser looks for it, and a
/// small launcher script (the manifest's `path` cannot carry arguments) that runs
/// `phantom-trail native-host`.
///
/// Manifest locations (per user):
/// - Linux: Chrome `~/.config/google-chrome/NativeMessagingHosts/`, Chromium
///   `~/.config/chromium/NativeMessagingHosts/`, Firefox `~/.mozilla/native-messaging-hosts/`.
/// - macOS: `~/Library/Application Support/` + `Google/Chrome/NativeMessagingHosts/`,
///   `Chromium/NativeMessagingHosts/`, `Mozilla/NativeMessagingHosts/`.
public enum NativeHostInstaller {
    /// The host's name, as extensions call `runtime.connectNative`.
    public static let hostName = "com.phantomtrail.community"
    /// The launcher script's file name.
    public static let launcherFileName = "phantom-trail-native-host"

    /// A supported browser.
    public enum Browser: String, Hashable, Sendable, CaseIterable {
        /// Google Chrome.
        case chrome
        /// Chromium.
        case chromium
        /// Mozilla Firefox.
        case firefox
    }

    /// What an installation writes.
    public struct Plan: Hashable, Sendable {
        /// The manifest's path.
        public var manifestPath: String
        /// The manifest's JSON text.
        public var manifest: String
        /// The launcher script's path.
        public var launcherPath: String
        /// The launcher script.
        public var launcher: String
    }

    /// The directory where `browser` looks for per-user host manifests.
    public static func manifestDirectory(
        for browser: Browser,
        home: String,
        platform: DataDirectory.Platform
    ) -> String {
        switch (platform, browser) {
        case (.linux, .chrome): home + "/.config/google-chrome/NativeMessagingHosts"
        case (.linux, .chromium): home + "/.config/chromium/NativeMessagingHosts"
        case (.linux, .firefox): home + "/.mozilla/native-messaging-hosts"
        case (.macOS, .chrome): home + "/Library/Application Support/Google/Chrome/NativeMessagingHosts"
        case (.macOS, .chromium): home + "/Library/Application Support/Chromium/NativeMessagingHosts"
        case (.macOS, .firefox): home + "/Library/Application Support/Mozilla/NativeMessagingHosts"
        }
    }

    /// Checks an extension ID: Chrome and Chromium IDs are 32 letters `a`–`p`; Firefox IDs are an
    /// email-like `name@domain` or a `{GUID}`.
    /// - Throws: ``NodeRuntimeError/Code/invalidInstallation`` naming the expected form.
    public static func validateExtensionID(_ id: String, for browser: Browser) throws(NodeRuntimeError) {
        switch browser {
        case .chrome, .chromium:
            guard id.utf8.count == 32, id.utf8.allSatisfy({ (0x61...0x70).contains($0) }) else {
                throw NodeRuntimeError(
                    .invalidInstallation,
                    "\"\(id)\" is not a \(browser.rawValue) extension ID (32 letters a–p, as chrome://extensions shows)"
                )
            }
        case .firefox:
            let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+@{}")
            let isGUID = id.hasPrefix("{") && id.hasSuffix("}") && id.count == 38
            let isEmailLike = id.contains("@") && !id.hasPrefix("@") && !id.hasSuffix("@")
            guard (1...255).contains(id.utf8.count), id.allSatisfy({ allowed.contains($0) }), isGUID || isEmailLike
            else {
                throw NodeRuntimeError(
                    .invalidInstallation,
                    "\"\(id)\" is not a Firefox extension ID (like name@example.org or {GUID}, from the manifest's "
                        + "browser_specific_settings.gecko.id)"
                )
            }
        }
    }

    /// What installing for `browser` would write.
    /// - Parameters:
    ///   - executablePath: the absolute path of the `phantom-trail` binary.
    ///   - dataDirectory: the `--data-dir` the host must use, or `nil` for the default.
    ///   - launcherDirectory: where the launcher script goes (normally `<data dir>/native-host`).
    /// - Throws: ``NodeRuntimeError/Code/invalidInstallation`` for a bad extension ID or relative path.
    public static func plan(
        browser: Browser,
        extensionID: String,
        executablePath: String,
        dataDirectory: String?,
        launcherDirectory: String,
        home: String,
        platform: DataDirectory.Platform = .current
    ) throws(NodeRuntimeError) -> Plan {
        try Self.validateExtensionID(extensionID, for: browser)
        for (name, path) in [("executable", executablePath), ("home", home), ("launcher directory", launcherDirectory)]
        where !path.hasPrefix("/") {
            throw NodeRuntimeError(.invalidInstallation, "the \(name) path \"\(path)\" is not absolute")
        }
        let launcherPath = launcherDirectory + "/" + Self.launcherFileName
        var manifest: [String: NativeJSON] = [
            "name": .string(Self.hostName),
            "description": .string("Phantom Trail Community: the bridge from the extension to the local node"),
            "path": .string(launcherPath),
            "type": .string("stdio"),
        ]
        switch browser {
        case .chrome, .chromium:
            manifest["allowed_origins"] = .array([.string("chrome-extension://\(extensionID)/")])
        case .firefox:
            manifest["allowed_extensions"] = .array([.string(extensionID)])
        }
        var command = [Self.shellQuoted(executablePath), "native-host"]
        if let dataDirectory {
            command += ["--data-dir", Self.shellQuoted(dataDirectory)]
        }
        let launcher = """
            #!/bin/sh
            # Written by `phantom-trail native-host install`: the browser starts this to talk to the local node.
            # The browser's own arguments (origin, manifest path) are not needed.
            exec \(command.joined(separator: " "))

            """
        return Plan(
            manifestPath: Self.manifestDirectory(for: browser, home: home, platform: platform) + "/"
                + Self.hostName + ".json",
            manifest: Self.prettyJSON(.object(manifest)),
            launcherPath: launcherPath,
            launcher: launcher
        )
    }

    /// Writes the plan's launcher (mode 0700) and manifest (mode 0644: the browser only needs to read it),
    /// creating missing directories.
    public static func install(_ plan: Plan) throws(NodeRuntimeError) {
        try PrivateFile.createDirectory(Self.parent(of: plan.launcherPath))
        try PrivateFile.store(Array(plan.launcher.utf8), to: plan.launcherPath)
        try Self.setMode(0o700, plan.launcherPath)
        try PrivateFile.createDirectory(Self.parent(of: plan.manifestPath))
        try PrivateFile.store(Array(plan.manifest.utf8), to: plan.manifestPath)
        try Self.setMode(0o644, plan.manifestPath)
    }

    private static func setMode(_ mode: Int, _ path: String) throws(NodeRuntimeError) {
        do {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        } catch {
            throw NodeRuntimeError(.fileSystem, "cannot set the mode of \(path)", underlying: error)
        }
    }

    private static func parent(of path: String) -> String {
        String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
    }

    private static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    private static func prettyJSON(_ value: NativeJSON) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return ((try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}") + "\n"
    }
}
