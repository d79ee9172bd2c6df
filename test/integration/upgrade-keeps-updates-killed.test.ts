/** The upgrade killed in the middle of its backfill and taken over by `handover resume`: the backfill goes on from its last chunk, nothing lost. */
import t from 'tap'
import { ensureDemoImages } from '../../scripts/lib/demo-images.js'
import { upgradeWhileRenaming } from '../support/renaming-upgrade.js'
import { removeLeftovers } from '../../scripts/lib/throwaway-service.js'

t.before(async () => {
  await ensureDemoImages()
  await removeLeftovers('it-upd-k')
})

t.test('the upgrade killed in the middle of its backfill and taken over by handover resume: nothing lost', (t) => upgradeWhileRenaming(t, 'it-upd-k', undefined, true))
