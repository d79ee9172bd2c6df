/** The same change as an unmarked legacy script (backfill guarded by `WHERE first_name IS NULL`): handover splits it and captures the backfill. */
import t from 'tap'
import { ensureDemoImages } from '../../scripts/lib/demo-images.js'
import { upgradeWhileRenaming, UNMARKED_V2 } from '../support/renaming-upgrade.js'
import { demoMigrationsWith, removeLeftovers } from '../../scripts/lib/throwaway-service.js'

t.before(async () => {
  await ensureDemoImages()
  await removeLeftovers('it-upd-u')
})

t.test('unmarked legacy script: renames and deletes of old and new rows survive the upgrade', async (t) => {
  const dir = t.testdir({})
  await upgradeWhileRenaming(t, 'it-upd-u', demoMigrationsWith(dir, () => UNMARKED_V2))
})
