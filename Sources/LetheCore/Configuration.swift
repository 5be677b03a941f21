import Foundation
import LetheStore

/// `<home>/lethe.json`: where the store and the keys are, and the policies an operator sets.
/// Written by `lethe init`, read by every command; an operator may edit it by hand.
public struct Configuration: Codable, Equatable, Sendable {
    public static let formatName = "lethe-config-v1"

    public var format: String = Configuration.formatName
    /// A random name for this installation; it is the origin of the audit log's checkpoints.
    public var installationID: String
    /// The key directory: relative to the home (the default, `keys`) or absolute.
    public var keysDirectory: String
    /// The local object store's root: relative to the home (the default, `store`) or absolute.
    public var storeDirectory: String
    /// When set, the store is this S3 bucket and `storeDirectory` is not used.
    public var s3: S3Settings?
    /// Days an offboarded tenant's backups are kept for a returning client.
    public var restoreWindowDays: Int = 90
    /// Retention of active tenants' snapshots, unless a tenant overrides it.
    public var retention: RetentionPolicy = .standard
    /// Who is told when personal data leaves the service (restore, export).
    public var notifications: NotificationSettings = NotificationSettings()
    /// Pack files are repacked when more than this percentage of their bytes is unused.
    public var pruneMaxUnusedPercent: Int = 10
    /// A blob is stored compressed only when that saves at least this percentage of its
    /// bytes; 100 turns compression off. Absent means 5 (`BlobCompression.standard`); it is
    /// optional so that a configuration signed before it existed still verifies.
    public var compressionMinimumSavingPercent: Int?
    /// Nights over which the nightly run's sampled verification reads every pack once.
    public var verifyRotationNights: Int = 30
    /// Where the nightly run writes node_exporter textfile metrics, if anywhere.
    public var metricsFile: String?
    /// How long a worker's lease on a tenant's night lasts unless renewed (every third of it):
    /// the time after which another worker takes over the tenants of a worker that died.
    public var leaseSeconds: Int = 1800
    /// Nights in a row a tenant's nightly backup may fail before it is an availability incident
    /// (3 when unset). Optional, so that a configuration signed before it existed still verifies.
    public var incidentBackupFailureNights: Int?
    public var backupFailureNights: Int { incidentBackupFailureNights ?? 3 }
    /// The service's signature over the rest (`ConfigurationSeal`).
    public var signature: String?

    public init(installationID: String, keysDirectory: String, storeDirectory: String) {
        self.installationID = installationID
        self.keysDirectory = keysDirectory
        self.storeDirectory = storeDirectory
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = Configuration(installationID: "", keysDirectory: "", storeDirectory: "")
        format = try c.decode(String.self, forKey: .format)
        installationID = try c.decode(String.self, forKey: .installationID)
        keysDirectory = try c.decode(String.self, forKey: .keysDirectory)
        storeDirectory = try c.decodeIfPresent(String.self, forKey: .storeDirectory) ?? "store"
        s3 = try c.decodeIfPresent(S3Settings.self, forKey: .s3)
        restoreWindowDays = try c.decodeIfPresent(Int.self, forKey: .restoreWindowDays) ?? defaults.restoreWindowDays
        retention = try c.decodeIfPresent(RetentionPolicy.self, forKey: .retention) ?? defaults.retention
        notifications = try c.decodeIfPresent(NotificationSettings.self, forKey: .notifications) ?? defaults.notifications
        pruneMaxUnusedPercent = try c.decodeIfPresent(Int.self, forKey: .pruneMaxUnusedPercent) ?? defaults.pruneMaxUnusedPercent
        compressionMinimumSavingPercent = try c.decodeIfPresent(Int.self, forKey: .compressionMinimumSavingPercent)
        verifyRotationNights = try c.decodeIfPresent(Int.self, forKey: .verifyRotationNights) ?? defaults.verifyRotationNights
        metricsFile = try c.decodeIfPresent(String.self, forKey: .metricsFile)
        leaseSeconds = try c.decodeIfPresent(Int.self, forKey: .leaseSeconds) ?? defaults.leaseSeconds
        incidentBackupFailureNights = try c.decodeIfPresent(Int.self, forKey: .incidentBackupFailureNights)
        signature = try c.decodeIfPresent(String.self, forKey: .signature)
    }

    /// The configuration in `bytes`, read from `path`, parsed and validated (not yet checked
    /// against its signature: that is `ConfigurationSeal.check`).
    package static func decode(_ bytes: [UInt8], path: String) throws -> Configuration {
        let configuration: Configuration
        do {
            configuration = try JSONDecoder().decode(Configuration.self, from: Data(bytes))
        } catch {
            throw ConfigurationError.invalid(path: path, reason: "not a Lethe configuration document (\(error))")
        }
        try configuration.validate(path: path)
        return configuration
    }

    /// Checks the values an operator could have mistyped.
    public func validate(path: String) throws {
        func bad(_ why: String) -> ConfigurationError { .invalid(path: path, reason: why) }
        guard format == Configuration.formatName else { throw bad("unknown format \"\(format)\"") }
        // The id names the audit log's checkpoints (a C2SP key name): lower-case hex only.
        guard (8...64).contains(installationID.utf8.count), installationID.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw bad("installationID must be 8 to 64 lower-case hex digits")
        }
        guard restoreWindowDays >= 0 else { throw bad("restoreWindowDays must be 0 or more") }
        guard (0...100).contains(pruneMaxUnusedPercent) else { throw bad("pruneMaxUnusedPercent must be 0 to 100") }
        if let saving = compressionMinimumSavingPercent, !(0...100).contains(saving) {
            throw bad("compressionMinimumSavingPercent must be 0 to 100 (100 turns compression off)")
        }
        guard verifyRotationNights >= 1 else { throw bad("verifyRotationNights must be 1 or more") }
        guard leaseSeconds >= 3 else { throw bad("leaseSeconds must be 3 or more") }
        guard backupFailureNights >= 1 else { throw bad("incidentBackupFailureNights must be 1 or more") }
        try retention.validate().map { throw bad($0) }
    }
}

/// A command to run and/or a URL to POST to whenever personal data leaves the service.
public struct NotificationSettings: Codable, Equatable, Sendable {
    /// Run with `/bin/sh -c`; the event is on standard input as JSON.
    public var command: String?
    /// Receives the event as a JSON POST.
    public var webhook: String?

    public init(command: String? = nil, webhook: String? = nil) {
        self.command = command
        self.webhook = webhook
    }
}

public enum ConfigurationError: KindedError, Equatable, Sendable, CustomStringConvertible {
    public var kind: ErrorKind { .usage }

    case notInitialized(home: String)
    case alreadyInitialized(home: String)
    case invalid(path: String, reason: String)

    public var description: String {
        switch self {
        case .notInitialized(let home):
            return "\(home) is not a Lethe home: run `lethe init --home \(home)` first, or set LETHE_HOME"
        case .alreadyInitialized(let home):
            return "\(home) is already initialized; refusing to change it"
        case .invalid(let path, let reason):
            return "configuration \(path) is invalid: \(reason)"
        }
    }
}
