import Foundation
import LetheCrypto
import LetheKeys
import LetheStore

/// A Lethe data directory (`--home`, `LETHE_HOME`, or `~/.lethe`) and the fixed places inside
/// it. Keys live in a directory of their own (`<home>/keys` unless `lethe init --keys` says
/// otherwise), so that they can sit on other storage than the data they protect.
public struct Home: Sendable {
    public let path: String

    public init(path: String) {
        self.path = FileSystem.absolute(path)
    }

    /// `--home` if given, else `LETHE_HOME`, else `~/.lethe`.
    public static func resolve(option: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> Home {
        if let option { return Home(path: option) }
        if let value = environment["LETHE_HOME"], !value.isEmpty { return Home(path: value) }
        return Home(path: "\(environment["HOME"] ?? ".")/.lethe")
    }

    public var configurationPath: String { "\(path)/lethe.json" }
    public var catalogPath: String { "\(path)/catalog.sqlite" }
    /// Per-tenant caches; removed at a tenant's destruction.
    public var cacheDirectory: String { "\(path)/cache" }
    /// Plaintext scratch files (a SQLite source's consistent copy) while a backup runs.
    public var temporaryDirectory: String { "\(path)/tmp" }
    public func cacheDirectory(of tenant: TenantID) -> String { "\(cacheDirectory)/\(tenant.rawValue)" }

    /// A tenant's own scratch folder, so its leftovers are found by name at its destruction.
    public func temporaryDirectory(of tenant: TenantID) -> String { "\(temporaryDirectory)/\(tenant.rawValue)" }

    /// `flock` files for work that must not interleave on this host.
    public var locksDirectory: String { "\(path)/locks" }

    public var isInitialized: Bool { FileSystem.exists(configurationPath) }

    /// A path from `lethe.json`: absolute as written, or relative to this home.
    public func resolve(_ setting: String) -> String {
        setting.hasPrefix("/") ? setting : "\(path)/\(setting)"
    }

    public func loadConfiguration() throws -> Configuration {
        guard isInitialized else { throw ConfigurationError.notInitialized(home: path) }
        let configuration = try Configuration.decode(
            try FileSystem.readFile(configurationPath, limit: 1 << 20), path: configurationPath)
        if let adopted = try ConfigurationSeal.check(
            configuration, path: configurationPath, home: path, keysDirectory: resolve(configuration.keysDirectory)) {
            try write(adopted)
            return adopted
        }
        return configuration
    }

    /// Signs `configuration` with the key of the directory it names, and writes it. That
    /// directory must belong to this installation (it may have moved; it may not be swapped).
    public func saveConfiguration(_ configuration: Configuration) throws {
        try configuration.validate(path: configurationPath)
        let keys = resolve(configuration.keysDirectory)
        let directory = try KeyDirectory(keys)
        if try directory.contains(ConfigurationSeal.bindingName),
           String(decoding: try directory.read(ConfigurationSeal.bindingName, limit: 256), as: UTF8.self) != "\(configuration.installationID)\n" {
            throw LetheError.usage("\(keys) holds the keys of another installation; keysDirectory must name this installation's")
        }
        let signed = try ConfigurationSeal.signed(configuration, key: try ServiceSigningKey.load(from: keys))
        let previous = isInitialized ? (try? JSONDecoder().decode(Configuration.self, from: Data(try FileSystem.readFile(configurationPath)))) : nil
        try ConfigurationSeal.anchor([previous, signed].compactMap { $0 }, home: path, keysDirectory: keys)
        try write(signed)
        try ConfigurationSeal.anchor([signed], home: path, keysDirectory: keys)
    }

    private func write(_ configuration: Configuration) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try FileSystem.writeAtomically(Array(try encoder.encode(configuration)) + [0x0a], to: configurationPath, mode: 0o600)
    }

    /// Makes this home a second worker of the installation whose settings are at `existing`
    /// (another home's `lethe.json`): the same settings, signed by the same key, with the store
    /// and the keys named absolutely — those of `existing`, or `storeDirectory` and
    /// `keysDirectory` where this host mounts them elsewhere. No key is created.
    public func join(existing: String, keysDirectory: String?, storeDirectory: String?) throws -> Initialized {
        guard !isInitialized else { throw ConfigurationError.alreadyInitialized(home: path) }
        let other = Home(path: FileSystem.parent(of: FileSystem.absolute(existing)))
        guard FileSystem.basename(of: existing) == "lethe.json" else {
            throw LetheError.usage("--join takes the lethe.json of a home of the installation, not \(existing)")
        }
        var configuration = try other.loadConfiguration()
        configuration.keysDirectory = keysDirectory.map(FileSystem.absolute) ?? other.resolve(configuration.keysDirectory)
        configuration.storeDirectory = storeDirectory.map(FileSystem.absolute) ?? other.resolve(configuration.storeDirectory)
        let keys = configuration.keysDirectory
        let signing = try ServiceSigningKey.load(from: keys)
        for directory in [path, cacheDirectory, temporaryDirectory, locksDirectory] {
            try FileSystem.makeDirectories(directory, mode: 0o700)
        }
        let bound = String(decoding: try KeyDirectory(keys).read(ConfigurationSeal.bindingName, limit: 256), as: UTF8.self)
        guard bound == "\(configuration.installationID)\n" else {
            throw LetheError.integrity("\(keys) belongs to another installation than \(existing)")
        }
        try saveConfiguration(configuration)
        let installation = try Installation(home: self)
        try AuditTrail(installation).record("worker.join", tenant: nil, details: ["home": path, "signingKeyFingerprint": try signing.fingerprint])
        return Initialized(
            home: path, configurationPath: configurationPath, storeDirectory: configuration.storeDirectory, keysDirectory: keys,
            kekEpoch: try installation.keystore().status().epoch, signingKeyPath: ServiceSigningKey.privatePath(in: keys),
            signingPublicKeyPath: ServiceSigningKey.publicPath(in: keys), signingKeyFingerprint: try signing.fingerprint)
    }

    /// What `lethe init` created.
    public struct Initialized: Sendable {
        public let home: String
        public let configurationPath: String
        public let storeDirectory: String
        public let keysDirectory: String
        public let kekEpoch: KEKEpoch
        public let signingKeyPath: String
        public let signingPublicKeyPath: String
        public let signingKeyFingerprint: String
    }

    /// Creates the home, the store root, KEK epoch 1, an empty keystore and the service
    /// signing key. Refuses, changing nothing, if the home or the key directory already holds
    /// an installation.
    public func initialize(keysDirectory: String?, storeDirectory: String?, s3: S3Settings? = nil) throws -> Initialized {
        // The defaults are recorded relative to the home, so a home copied or moved keeps using
        // its own store and keys; a place the operator chose is recorded as chosen, absolute.
        let keysSetting = keysDirectory.map(FileSystem.absolute) ?? "keys"
        let storeSetting = storeDirectory.map(FileSystem.absolute) ?? "store"
        let keys = resolve(keysSetting)
        let store = resolve(storeSetting)
        guard !isInitialized else { throw ConfigurationError.alreadyInitialized(home: path) }
        let kekProvider = FileKEKProvider(directory: "\(keys)/kek")
        let hasKEK = !(try kekProvider.epochs().isEmpty)
        if hasKEK || FileSystem.exists("\(keys)/keystore.json") || FileSystem.exists(ServiceSigningKey.privatePath(in: keys)) {
            throw KeyError.alreadyInitialized(directory: keys)
        }
        if let s3 {
            // A bucket (or prefix) that already holds an installation's log is another's.
            let bucket = try s3.open(clock: SystemClock(), environment: ProcessInfo.processInfo.environment)
            if try bucket.exists(ObjectKey("audit/checkpoint")) || !bucket.list(prefix: ObjectKey("audit")).isEmpty {
                throw LetheError.usage("\(bucket.location) already holds a Lethe installation; give another bucket or prefix")
            }
        }
        for directory in [path, cacheDirectory, temporaryDirectory, locksDirectory] {
            try FileSystem.makeDirectories(directory, mode: 0o700)
        }
        if s3 == nil { _ = try LocalStore(root: store) }
        _ = try Keystore.create(directory: keys, provider: kekProvider)
        let signing = try ServiceSigningKey.create(in: keys)
        var configuration = Configuration(
            installationID: Hex.encode(try SystemRandom.bytes(count: 8)), keysDirectory: keysSetting, storeDirectory: storeSetting)
        configuration.s3 = s3
        // Written last: its presence is what makes the home "initialized".
        try ConfigurationSeal.bind(configuration, keysDirectory: keys)
        try saveConfiguration(configuration)
        let installation = try Installation(home: self)
        try AuditTrail(installation).record("init", tenant: nil, details: [
            "signingKeyFingerprint": try signing.fingerprint, "kekEpoch": "1",
        ])
        return Initialized(
            home: path, configurationPath: configurationPath, storeDirectory: installation.store.location, keysDirectory: keys,
            kekEpoch: KEKEpoch(1), signingKeyPath: ServiceSigningKey.privatePath(in: keys),
            signingPublicKeyPath: ServiceSigningKey.publicPath(in: keys), signingKeyFingerprint: try signing.fingerprint)
    }
}
