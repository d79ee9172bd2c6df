/** The demo's marked v2 script: renames and deletes of old and new rows during a real upgrade reach the new columns. */
import t from 'tap'
import { ensureDemoImages } from '../../scripts/lib/demo-images.js'
import { upgradeWhileRenaming } from '../support/renaming-upgrade.js'
import { removeLeftovers } from '../../scripts/lib/throwaway-service.js'

t.before(async () => {
  await ensureDemoImages()
  await removeLeftovers('it-upd-m')
})

t.test('marked script (the demo v2): renames and deletes of old and new rows survive the upgrade', (t) => upgradeWhileRenaming(t, 'it-upd-m'))
