import Foundation
import LetheRepository
import LetheStore

/// `lethe tenant import FILE`: registers many tenants in one process, all or nothing.
///
/// FILE is JSON Lines, one tenant per line: `{"id": "acme", "name": "Acme GmbH", "sources":
/// ["dir:/srv/acme", "db=sqlite:/srv/acme.db"]}` (`name` optional; blank lines skipped), and
/// optionally a `register` object with the fields of `tenant register set`. Every
/// line is checked before anything is written, as `tenant add` checks one tenant, and one
/// problem anywhere imports nothing. Then the keys are created in one keystore write, the
/// records written to the store in one batch (`ObjectStore.put(_:)`: two file-system flushes
/// on the local store), the catalog updated in one transaction, and the additions logged in
/// one audit append.
///
/// Running it again after a crash finishes the job: a tenant already registered with the same
/// name and sources counts as imported, and is logged if its addition was not.
public struct TenantImport: Sendable {
    let installation: Installation

    public init(_ installation: Installation) {
        self.installation = installation
    }

    /// One tenant to register, as its line gave it.
    public struct Line: Sendable {
        public let number: Int
        public let id: TenantID
        public let name: String?
        public let sources: [TenantSource]
        /// The tenant's register entry, if the line gives one.
        public let register: DataRegister.Fields?
    }

    public struct Result: Codable, Sendable {
        /// Tenants registered by this run.
        public var imported: [String] = []
        /// Tenants already registered exactly as the file says (an earlier, interrupted run).
        public var alreadyPresent: [String] = []
    }

    /// The lines of `bytes`, each checked for its form only (ids, keys, source syntax).
    public static func parse(_ bytes: [UInt8], file: String) throws -> [Line] {
        var lines: [Line] = []
        var problems: [String] = []
        var seen: [TenantID: Int] = [:]
        for (offset, text) in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            guard !text.allSatisfy(\.isWhitespace) else { continue }
            do {
                guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                    throw LetheError.usage("not a JSON object")
                }
                if let unknown = Set(object.keys).subtracting(["id", "name", "sources", "register"]).sorted().first {
                    throw LetheError.usage("unknown field \"\(unknown)\" (a line has id, name, sources and register)")
                }
                guard let idText = object["id"] as? String else { throw LetheError.usage("no \"id\"") }
                let id = try TenantID(idText)
                guard object["name"] == nil || object["name"] is String else { throw LetheError.usage("\"name\" is not a string") }
                guard let specs = object["sources"] as? [String] else { throw LetheError.usage("\"sources\" is not a list of source specs") }
                if let earlier = seen[id] { throw LetheError.usage("tenant \(id) is on line \(earlier) already") }
                seen[id] = number
                lines.append(Line(
                    number: number, id: id, name: object["name"] as? String, sources: try specs.map(TenantSource.init(spec:)),
                    register: try object["register"].map(TenantImport.register)))
            } catch {
                problems.append("line \(number): \(error)")
            }
        }
        try refuse(problems, file: file)
        guard !lines.isEmpty else { throw LetheError.usage("\(file) holds no tenants") }
        return lines
    }

    static let registerFields = ["dataCategories", "subjectCategories", "purposes", "retentionBasis", "subProcessors"]

    /// A line's `register` object: the fields of `tenant register set`, each checked.
    static func register(_ value: Any) throws -> DataRegister.Fields {
        guard let object = value as? [String: Any] else { throw LetheError.usage("\"register\" is not a JSON object") }
        if let unknown = Set(object.keys).subtracting(registerFields).sorted().first {
            throw LetheError.usage("unknown register field \"\(unknown)\" (a register has \(registerFields.joined(separator: ", ")))")
        }
        let fields: DataRegister.Fields
        do {
            fields = try JSONDecoder().decode(DataRegister.Fields.self, from: try JSONSerialization.data(withJSONObject: object))
        } catch {
            throw LetheError.usage("\"register\": lists are lists of strings and retentionBasis is a string")
        }
        _ = try fields.applied(to: nil, time: "", actor: "")
        return fields
    }

    /// One line for the whole refusal: how many problems, the first few, and that nothing was done.
    private static func refuse(_ problems: [String], file: String) throws {
        guard !problems.isEmpty else { return }
        let shown = problems.prefix(3).joined(separator: "; ")
        let more = problems.count > 3 ? "; and \(problems.count - 3) more" : ""
        throw LetheError.usage("\(file): \(problems.count) problem\(problems.count == 1 ? "" : "s"), nothing imported: \(shown)\(more)")
    }

    public func run(_ lines: [Line], file: String) throws -> Result {
        let registry = TenantRegistry(installation)
        let catalog = try installation.catalog()
        let keystore = try installation.keystore()
        _ = try installation.signingKey()
        let keyed = Set(try keystore.tenants())

        // Everything is checked before anything is written.
        var problems: [String] = []
        var fresh: [Line] = []
        var present: [TenantID] = []
        for line in lines {
            if let problem = TenantRegistry.problem(id: line.id, sources: line.sources) {
                problems.append("line \(line.number): \(problem)")
                continue
            }
            if let tombstone = try catalog.tombstone(line.id) {
                problems.append("line \(line.number): tenant \(line.id) was destroyed on \(tombstone.destroyedAt) (report \(tombstone.report))")
                continue
            }
            guard try installation.store.exists(Layout.record(line.id)) else {
                fresh.append(line)
                continue
            }
            let record = try registry.record(line.id)
            let register = try line.register.map { try $0.applied(to: nil, time: "", actor: "") }
            let sameRegister = register.map { wanted in record.register.map { $0.sameContent(as: wanted) } ?? false } ?? (record.register == nil)
            if record.name == (line.name ?? line.id.rawValue), record.sources == line.sources, sameRegister {
                present.append(line.id)
            } else {
                problems.append("line \(line.number): tenant \(line.id) already exists with another name, other sources or another register")
            }
        }
        try TenantImport.refuse(problems, file: file)

        // A key without a record was left by a run that crashed in between: reuse it.
        try keystore.createKeys(for: fresh.map(\.id).filter { !keyed.contains($0) })
        let created = installation.nowText
        let records = try fresh.map { line in
            var record = TenantRecord(id: line.id, name: line.name ?? line.id.rawValue, sources: line.sources, created: created, actor: installation.actor)
            record.register = try line.register.map { try $0.applied(to: nil, time: created, actor: installation.actor) }
            return record
        }
        try writeRecords(records)
        try catalog.upsert(records)

        // Tenants an interrupted run registered may lack their entry.
        var unlogged = records.map(\.id)
        if !present.isEmpty {
            let logged = Set(try AuditTrail(installation).history().entries.filter { $0.operation == "tenant.add" }.compactMap(\.tenant))
            unlogged += present.filter { !logged.contains($0.rawValue) }
        }
        let byID = Dictionary(lines.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        if !unlogged.isEmpty {
            try AuditTrail(installation).record(try unlogged.flatMap { id in
                let line = byID[id]!
                var events = [AuditLog.Event("tenant.add", tenant: id.rawValue, details: [
                    "name": line.name ?? id.rawValue, "sources": line.sources.map(\.description).joined(separator: " "), "import": file,
                ])]
                if let register = try line.register.map({ try $0.applied(to: nil, time: created, actor: installation.actor) }) {
                    events.append(AuditLog.Event("tenant.register", tenant: id.rawValue, details: try TenantRegister.auditDetails(register)))
                }
                return events
            })
        }
        return Result(imported: records.map(\.id.rawValue), alreadyPresent: present.map(\.rawValue))
    }

    /// Writes the sealed records, a few at a time (each is its own fsynced object).
    private func writeRecords(_ records: [TenantRecord]) throws {
        let sealed = ResultSlots<(key: ObjectKey, bytes: [UInt8])>(count: records.count)
        let failures = ResultSlots<String>(count: records.count)
        let next = WorkCounter()
        let registry = TenantRegistry(installation)
        DispatchQueue.concurrentPerform(iterations: min(4, max(1, records.count))) { _ in
            while let index = next.take(below: records.count) {
                do {
                    sealed.set(index, try registry.sealedRecord(records[index]))
                } catch {
                    failures.set(index, "\(records[index].id): \(error)")
                }
            }
        }
        if let failure = failures.values.first { throw LetheError.failed("tenant import: \(failure)") }
        do {
            try installation.store.put(sealed.values)
        } catch {
            throw LetheError.failed("tenant import: \(error)")
        }
    }
}
