/// Every verb of `lethe`, in the order `lethe --help` lists them.
enum Commands {
    static var all: [CommandSpec] {
        [InitCommand.spec] + ConfigCommands.specs + TenantCommands.specs + RegisterCommands.specs + LifecycleCommands.specs
            + [BackupCommand.spec] + SnapshotCommands.specs + [ExportCommand.spec, VerifyCommand.spec]
            + MaintenanceCommands.specs + [NightlyCommand.spec] + AuthorizerCommands.specs + DestroyCommands.specs
            + EraseCommands.specs + ReportCommands.specs + AuditCommands.specs + AuditExtractCommands.specs + IncidentCommands.specs + KeysCommands.specs + [IndexCommand.spec]
    }
}
