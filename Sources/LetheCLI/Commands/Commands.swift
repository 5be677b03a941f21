/// Every verb of `lethe`, in the order `lethe --help` lists them.
enum Commands {
    static var all: [CommandSpec] {
        [InitCommand.spec] + TenantCommands.specs + [BackupCommand.spec] + SnapshotCommands.specs
            + [VerifyCommand.spec, IndexCommand.spec] + KeysCommands.specs
    }
}
