import Foundation
import LetheStore

/// A tenant's entry in the record of processing activities (GDPR Art. 30(2)): what personal
/// data Lethe holds for this controller, about whom, why, on what basis it is kept, and who
/// else handles it. It lives inside the sealed tenant record, so it is authenticated by the
/// tenant's key, destroyed with the tenant, and part of every destruction request's inventory
/// (a changed register changes the inventory digest, so approvals cannot outlive it). The
/// storage location is not stored here: it is read from the store's configuration whenever
/// the register is shown, so it cannot drift from where the data really is.
public struct DataRegister: Codable, Equatable, Sendable {
    /// The documented vocabulary of data categories (docs/records.md). Anything else is written
    /// `other:DESCRIPTION`, so a category outside the vocabulary is always visibly free text.
    public static let vocabulary: [(name: String, meaning: String)] = [
        ("contact-data", "names, postal and e-mail addresses, telephone numbers"),
        ("identifiers", "customer, account, device or online identifiers, national id numbers"),
        ("communications", "messages, e-mails, call records, support tickets"),
        ("financial", "bank and card details, invoices, payment and transaction data"),
        ("special-categories", "GDPR Art. 9 data: health, biometric, genetic, racial or ethnic origin, beliefs, sexual life"),
        ("free-text", "unstructured text fields and documents whose content is not controlled"),
    ]
    static let otherPrefix = "other:"

    /// Categories of personal data: vocabulary names or `other:DESCRIPTION`.
    public var dataCategories: [String]
    /// Categories of data subjects (customers, employees, patients, …).
    public var subjectCategories: [String]
    /// Purposes of processing, one row each in the export.
    public var purposes: [String]
    /// Why the data is kept as long as it is (the contract clause, a statutory period).
    public var retentionBasis: String?
    /// Sub-processors involved (the storage provider, a KMS, …).
    public var subProcessors: [String]
    /// When and by whom the entry was last changed.
    public var updated: String
    public var updatedBy: String

    public init(
        dataCategories: [String] = [], subjectCategories: [String] = [], purposes: [String] = [], retentionBasis: String? = nil,
        subProcessors: [String] = [], updated: String, updatedBy: String
    ) {
        self.dataCategories = dataCategories
        self.subjectCategories = subjectCategories
        self.purposes = purposes
        self.retentionBasis = retentionBasis
        self.subProcessors = subProcessors
        self.updated = updated
        self.updatedBy = updatedBy
    }

    /// Whether the entry mentions special categories (Art. 9), which a DPO looks for first.
    public var holdsSpecialCategories: Bool { dataCategories.contains("special-categories") }

    /// What is wrong with the entry, or nil: an unknown category, an empty value, a line break
    /// (values become CSV cells and audit details), a value too long to be a register entry.
    public func problem() -> String? {
        for category in dataCategories {
            if category.hasPrefix(DataRegister.otherPrefix) {
                if category.dropFirst(DataRegister.otherPrefix.count).trimmingCharacters(in: .whitespaces).isEmpty {
                    return "data category \"other:\" needs a description after the colon"
                }
            } else if !DataRegister.vocabulary.contains(where: { $0.name == category }) {
                return "unknown data category \"\(category)\": use one of "
                    + DataRegister.vocabulary.map(\.name).joined(separator: ", ") + ", or other:DESCRIPTION"
            }
        }
        let fields: [(String, [String])] = [
            ("data category", dataCategories), ("subject category", subjectCategories), ("purpose", purposes),
            ("retention basis", retentionBasis.map { [$0] } ?? []), ("sub-processor", subProcessors),
        ]
        for (field, values) in fields {
            for value in values {
                if value.trimmingCharacters(in: .whitespaces).isEmpty { return "a \(field) is empty" }
                if value.contains(where: { $0.isNewline || $0 == "\t" }) { return "a \(field) holds a line break or tab" }
                if value.utf8.count > 500 { return "a \(field) is longer than 500 bytes" }
            }
            if Set(values).count != values.count { return "a \(field) is given twice" }
        }
        return nil
    }

    /// Whether `other` says the same as this entry, whoever wrote it when.
    public func sameContent(as other: DataRegister) -> Bool {
        var a = self, b = other
        (a.updated, a.updatedBy, b.updated, b.updatedBy) = ("", "", "", "")
        return a == b
    }

    /// Sorted keys, no whitespace: the form whose SHA-256 the audit log records.
    public func canonicalBytes() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }

    /// The fields of a `register` object as `tenant import` lines carry it (no times: the
    /// import stamps them), checked.
    public struct Fields: Codable, Equatable, Sendable {
        public var dataCategories: [String]?
        public var subjectCategories: [String]?
        public var purposes: [String]?
        public var retentionBasis: String?
        public var subProcessors: [String]?

        public init(
            dataCategories: [String]? = nil, subjectCategories: [String]? = nil, purposes: [String]? = nil,
            retentionBasis: String? = nil, subProcessors: [String]? = nil
        ) {
            self.dataCategories = dataCategories
            self.subjectCategories = subjectCategories
            self.purposes = purposes
            self.retentionBasis = retentionBasis
            self.subProcessors = subProcessors
        }

        public var isEmpty: Bool {
            dataCategories == nil && subjectCategories == nil && purposes == nil && retentionBasis == nil && subProcessors == nil
        }

        /// `base` with the fields given here replaced, stamped `time` and `actor`.
        public func applied(to base: DataRegister?, time: String, actor: String) throws -> DataRegister {
            var register = base ?? DataRegister(updated: time, updatedBy: actor)
            if let dataCategories { register.dataCategories = dataCategories }
            if let subjectCategories { register.subjectCategories = subjectCategories }
            if let purposes { register.purposes = purposes }
            if let retentionBasis { register.retentionBasis = retentionBasis.isEmpty ? nil : retentionBasis }
            if let subProcessors { register.subProcessors = subProcessors }
            register.updated = time
            register.updatedBy = actor
            if let problem = register.problem() { throw LetheError.usage("register: \(problem)") }
            return register
        }
    }
}
