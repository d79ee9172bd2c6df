import type { UpgradeEvent, UpgradeEventListener } from '../../protocol/events.js'

/**
 * Delivers each event to every subscriber in order and waits for them, so "journaled before
 * the phase runs" holds. A required subscriber's failure fails the emit (the journal must not
 * silently fall behind); an optional one's is reported and ignored (metrics must not stop an upgrade).
 */
export class EventBus {
  private readonly subscribers: { listener: UpgradeEventListener; required: boolean }[] = []

  constructor(private readonly onOptionalFailure: (error: unknown, event: UpgradeEvent) => void = () => {}) {}

  subscribe(listener: UpgradeEventListener, options: { required: boolean }): void {
    this.subscribers.push({ listener, required: options.required })
  }

  async emit(event: UpgradeEvent): Promise<void> {
    for (const { listener, required } of this.subscribers) {
      try {
        await listener(event)
      } catch (error) {
        if (required) throw error
        this.onOptionalFailure(error, event)
      }
    }
  }
}
