import Foundation
import LetheRepository
import LetheStore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Personal data leaving the service (a restore or an export): what the notification says.
public struct DataReleaseEvent: Codable, Sendable, Equatable {
    public var event: String
    public var tenant: String
    public var snapshot: String
    public var actor: String
    public var time: String
    public var host: String
    public var destination: String
    public var files: Int
    public var bytes: Int
}

/// Sends an event (a `DataReleaseEvent`, an `IncidentEvent`) to the configured command and/or
/// webhook. A notification that fails is reported to the caller — never dropped.
public struct Notifier: Sendable {
    let settings: NotificationSettings
    var timeout: TimeInterval = 30

    public init(settings: NotificationSettings) {
        self.settings = settings
    }

    /// Failures, one line each (empty when every configured channel accepted the event, or
    /// when none is configured).
    public func send(_ event: DataReleaseEvent) -> [String] {
        send(event, environment: ["LETHE_EVENT": event.event, "LETHE_TENANT": event.tenant, "LETHE_SNAPSHOT": event.snapshot])
    }

    /// An opened incident: LETHE_EVENT is `incident.opened`, LETHE_INCIDENT its id, LETHE_TENANT
    /// the affected tenants (space-separated).
    public func send(_ event: IncidentEvent) -> [String] {
        send(event, environment: [
            "LETHE_EVENT": event.event, "LETHE_INCIDENT": event.incident, "LETHE_INCIDENT_TYPE": event.type.rawValue,
            "LETHE_TENANT": event.tenants.joined(separator: " "),
        ])
    }

    private func send<Event: Encodable>(_ event: Event, environment: [String: String]) -> [String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let body = try? encoder.encode(event) else { return ["notification: cannot encode the event"] }
        var failures: [String] = []
        if let command = settings.command, !command.isEmpty, let failure = runCommand(command, body: body, variables: environment) {
            failures.append(failure)
        }
        if let webhook = settings.webhook, !webhook.isEmpty, let failure = post(webhook, body: body) {
            failures.append(failure)
        }
        return failures
    }

    /// Runs `sh -c command` with the event as JSON on standard input and in LETHE_* variables.
    private func runCommand(_ command: String, body: Data, variables: [String: String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        var environment = ProcessInfo.processInfo.environment
        for (name, value) in variables { environment[name] = value }
        process.environment = environment
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return "notification command could not start: \(error)"
        }
        try? input.fileHandleForWriting.write(contentsOf: body)
        try? input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            process.terminate()
            return "notification command did not finish within \(Int(timeout)) s"
        }
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            return "notification command failed with status \(process.terminationStatus)"
        }
        return nil
    }

    /// POSTs the event as JSON; anything but a 2xx answer is a failure.
    private func post(_ address: String, body: Data) -> String? {
        guard let url = URL(string: address), url.scheme == "http" || url.scheme == "https" else {
            return "notification webhook \(address) is not an http(s) URL"
        }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = body
        let outcome = WebhookOutcome()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { _, response, error in
            if let error {
                outcome.set("notification webhook \(address) failed: \(error.localizedDescription)")
            } else if let http = response as? HTTPURLResponse, !(200..<300).contains(http.statusCode) {
                outcome.set("notification webhook \(address) answered HTTP \(http.statusCode)")
            }
            done.signal()
        }.resume()
        if done.wait(timeout: .now() + timeout + 5) == .timedOut {
            return "notification webhook \(address) did not answer within \(Int(timeout)) s"
        }
        return outcome.value
    }
}

private final class WebhookOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var failure: String?

    func set(_ value: String) { lock.withLock { failure = value } }
    var value: String? { lock.withLock { failure } }
}

/// Personal data leaving the service (restore, export): the rules and the record around it.
public struct DataRelease: Sendable {
    let installation: Installation

    public init(_ installation: Installation) {
        self.installation = installation
    }

    /// Opens `tenant`'s snapshot `spec` (nil or `latest` for the newest) for reading out, if the
    /// lifecycle allows, under a shared lock, and runs `body` with it.
    public func withSnapshot<T>(
        of tenant: TenantID, _ spec: String?, operation: String,
        _ body: (Repository, Catalog.SnapshotRow, Snapshot) throws -> T
    ) throws -> T {
        let record = try TenantRegistry(installation).record(tenant)
        try Lifecycle(installation).requireRestoreAllowed(record)
        let repository = try installation.repository(for: tenant)
        let lock = try TenantLock.acquire(repository, exclusive: false, operation: operation, clock: installation.clock)
        defer { lock.release() }
        let catalog = try installation.catalog()
        try catalog.sync(repository)
        guard spec == nil || spec == "latest" else {
            let row = try SnapshotSelector(installation).select(spec, tenant: tenant)
            return try body(repository, row, try repository.loadSnapshot(try row.snapshotID()))
        }
        // The newest by the sealed snapshots' own times: the catalog's copy of a time is an
        // index H could edit, and would then choose what a returning client gets back.
        guard let (id, snapshot) = try repository.snapshots().first else {
            throw LetheError.usage("tenant \(tenant) has no snapshots")
        }
        guard let row = try catalog.snapshots(matching: id.hex, tenant: tenant).first, row.time == snapshot.time else {
            throw LetheError.integrity("the catalog's row for snapshot \(id.short) of \(tenant) disagrees with the snapshot; run `lethe index rebuild`")
        }
        return try body(repository, row, snapshot)
    }

    /// What is about to leave: logged before the first byte is written, so that no personal
    /// data ever leaves without a durable audit entry. The release itself runs in `body`; if it
    /// fails part-way, that is logged too, since some of the data may already be out.
    public func release<T>(
        _ event: String, tenant: TenantID, snapshot: String, destination: String, files: Int, bytes: Int,
        details: [String: String] = [:], _ body: () throws -> T
    ) throws -> (T, notificationFailures: [String]) {
        try AuditTrail(installation).record(event, tenant: tenant, details: details.merging([
            "snapshot": snapshot, "destination": destination, "files": String(files), "bytes": String(bytes),
        ]) { _, new in new })
        let result: T
        do {
            result = try body()
        } catch {
            _ = try? AuditTrail(installation).record("\(event).failed", tenant: tenant, details: [
                "snapshot": snapshot, "destination": destination, "error": "\(error)",
            ])
            throw error
        }
        let failures = Notifier(settings: installation.configuration.notifications).send(DataReleaseEvent(
            event: event, tenant: tenant.rawValue, snapshot: snapshot, actor: installation.actor, time: installation.nowText,
            host: ProcessInfo.processInfo.hostName, destination: destination, files: files, bytes: bytes))
        if !failures.isEmpty {
            try AuditTrail(installation).record("notification.failed", tenant: tenant, details: [
                "event": event, "snapshot": snapshot, "failures": failures.joined(separator: "; "),
            ])
        }
        return (result, failures)
    }
}
