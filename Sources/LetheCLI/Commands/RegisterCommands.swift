import Foundation
import LetheCore
import LetheStore

/// The record of processing activities (GDPR Art. 30(2)): each tenant's register entry, and
/// the export across tenants. See docs/records.md.
enum RegisterCommands {
    static let specs = [set, show, export]

    static let set = CommandSpec(
        ["tenant", "register", "set"],
        summary: "set a tenant's entry in the record of processing activities",
        usage: "tenant register set ID [--data-category C …] [--subject-category S …] [--purpose P …] [--retention-basis TEXT] [--sub-processor NAME …] [--clear FIELD …] [--json]",
        details: """
            Each option given replaces that field; fields not given keep their value. A repeatable option lists
            the field's values (give it once per value). Data categories are from the vocabulary
              \(DataRegister.vocabulary.map(\.name).joined(separator: ", "))
            or other:DESCRIPTION for anything else (docs/records.md says what each covers). --clear FIELD empties
            a field: data-categories, subject-categories, purposes, retention-basis or sub-processors. The storage
            location is not set here: it is the store's, from the configuration. The entry is part of the sealed
            tenant record; every change is logged (tenant.register, with the entry's SHA-256).
            """,
        options: [
            OptionSpec("--data-category", value: "C", repeatable: true, "a category of personal data (repeatable)"),
            OptionSpec("--subject-category", value: "S", repeatable: true, "a category of data subjects (repeatable)"),
            OptionSpec("--purpose", value: "P", repeatable: true, "a purpose of processing (repeatable)"),
            OptionSpec("--retention-basis", value: "TEXT", "why the data is kept as long as it is"),
            OptionSpec("--sub-processor", value: "NAME", repeatable: true, "a sub-processor (repeatable)"),
            OptionSpec("--clear", value: "FIELD", repeatable: true, "empty a field (repeatable)"),
            .json,
        ]
    ) { invocation in
        _ = try invocation.positionals(1...1, "tenant ID")
        let id = try invocation.tenant(at: 0)
        let a = invocation.arguments
        func list(_ option: String) -> [String]? { a.all(option).isEmpty ? nil : a.all(option) }
        var fields = DataRegister.Fields(
            dataCategories: list("--data-category"), subjectCategories: list("--subject-category"), purposes: list("--purpose"),
            retentionBasis: a.value("--retention-basis"), subProcessors: list("--sub-processor"))
        for field in a.all("--clear") {
            switch field {
            case "data-categories": fields.dataCategories = []
            case "subject-categories": fields.subjectCategories = []
            case "purposes": fields.purposes = []
            case "retention-basis": fields.retentionBasis = ""
            case "sub-processors": fields.subProcessors = []
            default:
                throw invocation.usageError(
                    "--clear takes data-categories, subject-categories, purposes, retention-basis or sub-processors, not \"\(field)\"")
            }
        }
        let view = try TenantRegister(try invocation.installation()).set(id, fields)
        try print(view, invocation)
        return .success
    }

    static let show = CommandSpec(
        ["tenant", "register", "show"],
        summary: "show a tenant's entry in the record of processing activities",
        usage: "tenant register show ID [--json]",
        options: [.json]
    ) { invocation in
        _ = try invocation.positionals(1...1, "tenant ID")
        let view = try TenantRegister(try invocation.installation()).view(try invocation.tenant(at: 0))
        try print(view, invocation)
        return .success
    }

    static func print(_ view: TenantRegister.View, _ invocation: Invocation) throws {
        if invocation.json {
            try invocation.console.json(view)
            return
        }
        let c = invocation.console
        c.print("tenant             \(view.tenant) (\(view.name))")
        lines(view.register, storageLocation: view.storageLocation).forEach(c.print)
    }

    /// The entry as `tenant show` and `tenant register show` print it.
    static func lines(_ register: DataRegister?, storageLocation: String) -> [String] {
        func list(_ values: [String]) -> String { values.isEmpty ? "-" : values.joined(separator: "; ") }
        guard let register else {
            return ["register           none set (`lethe tenant register set`)", "storage location   \(storageLocation)"]
        }
        return [
            "data categories    \(list(register.dataCategories))" + (register.holdsSpecialCategories ? "  (Art. 9 special categories)" : ""),
            "data subjects      \(list(register.subjectCategories))",
            "purposes           \(list(register.purposes))",
            "retention basis    \(register.retentionBasis ?? "-")",
            "sub-processors     \(list(register.subProcessors))",
            "storage location   \(storageLocation)",
            "register updated   \(register.updated) by \(register.updatedBy)",
        ]
    }

    static let export = CommandSpec(
        ["register", "export"],
        summary: "write the record of processing activities: one row per tenant and purpose",
        usage: "register export [--format csv|json]",
        details: """
            Reads every tenant's sealed record (not the catalog) and writes one row per tenant and purpose to
            standard output: CSV (RFC 4180, a header line; the default) or a JSON array. A tenant without a
            register entry, or without purposes, has one row with an empty purpose, so no tenant is missing.
            """,
        options: [OptionSpec("--format", value: "FORMAT", "csv (the default) or json")]
    ) { invocation in
        _ = try invocation.positionals(0...0, "")
        let format = invocation.arguments.value("--format") ?? "csv"
        guard format == "csv" || format == "json" else { throw invocation.usageError("--format is csv or json, not \"\(format)\"") }
        let rows = try TenantRegister(try invocation.installation()).export()
        if format == "json" {
            try invocation.console.json(rows)
        } else {
            invocation.console.raw(Array(TenantRegister.csv(rows).utf8))
        }
        return .success
    }
}
