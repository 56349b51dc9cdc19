/**
 * In-server backups compatible with the Program Config App. For dry-run/restore with `backup-id`:
 * `readBackupMetadata(client, programId, backupId)` gives the record and its metadata document.
 */
export {
  BACKUPS_NAMESPACE,
  buildBackupRecord,
  processMetadata,
  summarizeBackup,
  type BackupRecord,
  type BackupSummary,
} from './records.ts';
export { BackupNotFoundError, readBackupMetadata, readBackups, saveBackup } from './store.ts';
