import Foundation
import LetheKeys
import LetheRepository
import LetheStore

/// An initialized Lethe home, opened: its configuration, object store, keys, catalog and
/// clock. Every command of the CLI works through one of these.
public final class Installation: @unchecked Sendable {
    public let home: Home
    public let configuration: Configuration
    public let store: ObjectStore
    public let clock: Clock
    /// Who is acting, for the audit log: `LETHE_ACTOR`, else the invoking user, at this host.
    public let actor: String
    /// This process among the workers sharing the store, for leases: `host:pid:random`.
    public let worker: String

    private let lock = NSLock()
    private var openedKeystore: Keystore?
    private var openedCatalog: Catalog?
    private var lastHistory: AuditHistory?
    /// Audit events noted inside `batchingAudit`, waiting for the run's next append.
    private var pendingAudit: [AuditLog.Event] = []
    private var auditBatches = 0

    public init(home: Home, clock: Clock = SystemClock(), environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.home = home
        #if DEBUG
        if let text = environment["LETHE_NOW"], Timestamp.parse(text) == nil {
            throw LetheError.usage("LETHE_NOW=\(text) is not a time Lethe reads (2026-03-01T02:00:00Z, or a date 2026-03-01)")
        }
        #endif
        configuration = try home.loadConfiguration()
        store = try configuration.s3.map { try $0.open(clock: clock, environment: environment) }
            ?? LocalStore(root: home.resolve(configuration.storeDirectory))
        self.clock = clock
        let user = environment["LETHE_ACTOR"] ?? environment["SUDO_USER"] ?? environment["USER"] ?? "uid\(getuid())"
        actor = user.contains("@") ? user : "\(user)@\(ProcessInfo.processInfo.hostName)"
        worker = try Lease.workerName()
    }

    /// The key directory: as `lethe.json` names it, relative to the home unless absolute.
    public var keysDirectory: String { home.resolve(configuration.keysDirectory) }

    /// This host's anchors against rollback, in the key directory.
    public var anchors: TrustAnchors { TrustAnchors(directory: keysDirectory) }

    /// The audit history last read, reused while the log's trusted checkpoint is unchanged.
    var cachedHistory: AuditHistory? {
        get { lock.withLock { lastHistory } }
        set { lock.withLock { lastHistory = newValue } }
    }

    /// Runs `body` with `AuditTrail.note` holding events for one append, made at the end (or
    /// earlier by `flush` or `record`). If `body` throws, what it noted is still appended: the
    /// work it logs was done.
    public func batchingAudit<T>(_ body: () throws -> T) throws -> T {
        lock.withLock { auditBatches += 1 }
        let result: T
        do {
            result = try body()
        } catch {
            lock.withLock { auditBatches -= 1 }
            try? AuditTrail(self).flush()
            throw error
        }
        lock.withLock { auditBatches -= 1 }
        try AuditTrail(self).flush()
        return result
    }

    /// Holds `events` if a batch is open; false if none is.
    func deferPendingAudit(_ events: [AuditLog.Event]) -> Bool {
        lock.withLock {
            guard auditBatches > 0 else { return false }
            pendingAudit += events
            return true
        }
    }

    func takePendingAudit() -> [AuditLog.Event] {
        lock.withLock {
            defer { pendingAudit = [] }
            return pendingAudit
        }
    }

    /// Puts back events an append failed to write, ahead of any noted since.
    func restorePendingAudit(_ events: [AuditLog.Event]) {
        lock.withLock { pendingAudit = events + pendingAudit }
    }

    var hasPendingAudit: Bool { lock.withLock { !pendingAudit.isEmpty } }

    public func keystore() throws -> Keystore {
        try lock.withLock {
            if let openedKeystore { return openedKeystore }
            let keystore = try Keystore(
                directory: keysDirectory, provider: FileKEKProvider(directory: "\(keysDirectory)/kek"), clock: clock)
            openedKeystore = keystore
            return keystore
        }
    }

    /// The catalog, opened once. A catalog that is missing, or empty while the store holds
    /// tenants or reports (lost, or replaced by hand), is rebuilt from the store first: an index
    /// that silently lists nothing would make `backup --all` and the nightly run do nothing.
    public func catalog() throws -> Catalog {
        if let opened = lock.withLock({ openedCatalog }) { return opened }
        // Opened outside the lock: a rebuild needs the keystore, which takes the same lock.
        var catalog: Catalog? = try Catalog(path: home.catalogPath)
        // Only an empty catalog costs the store listing.
        if try catalog!.isEmpty, try storeHasData() {
            catalog = nil  // its connection must be gone before the file is replaced
            _ = try IndexRebuild(self).rebuild()
            catalog = try Catalog(path: home.catalogPath)
        }
        return lock.withLock {
            if let openedCatalog { return openedCatalog }
            openedCatalog = catalog
            return catalog!
        }
    }

    private func storeHasData() throws -> Bool {
        try !store.children(of: ObjectKey("tenants")).isEmpty || !store.children(of: ObjectKey("reports")).isEmpty
    }

    /// Closes the catalog connection (before the file is replaced by a rebuild).
    public func closeCatalog() {
        lock.withLock { openedCatalog = nil }
    }

    public func signingKey() throws -> ServiceSigningKey {
        try ServiceSigningKey.load(from: keysDirectory)
    }

    /// How new blobs are stored, from `compressionMinimumSavingPercent`.
    public var compression: BlobCompression {
        configuration.compressionMinimumSavingPercent.map(BlobCompression.init(minimumSavingPercent:)) ?? .standard
    }

    /// The tenant's repository, opened with its unwrapped DEK.
    public func repository(for tenant: TenantID) throws -> Repository {
        try Repository(store: store, key: try keystore().unwrapKey(for: tenant), compression: compression)
    }

    /// `lethe keys rotate`: ratchets every tenant key to a new KEK epoch, audited.
    public func rotateKeys() throws -> Ratchet {
        let ratchet = try keystore().rotate()
        try AuditTrail(self).record("keys.rotate", tenant: nil, details: [
            "fromEpoch": String(ratchet.from.number), "toEpoch": String(ratchet.to.number),
        ])
        return ratchet
    }

    public var now: Date { clock.now() }
    public var nowText: String { Timestamp.format(clock.now()) }
}
