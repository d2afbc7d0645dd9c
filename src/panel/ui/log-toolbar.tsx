import { useEffect, useState } from 'preact/hooks';
import type { PanelInfo } from '../bridge.js';
import { describeFailure } from './action-messages.js';
import { usePanel } from './panel-context.js';

/** Log-wide actions: send a test event, export, clear delivered, resume paused relays. */
export function LogToolbar(props: { info: PanelInfo | undefined }) {
  const { bridge, t, notify } = usePanel();
  const relays = props.info?.relays ?? [];
  const [testRelay, setTestRelay] = useState(relays[0] ?? '');

  useEffect(() => {
    if (testRelay === '' && relays[0] !== undefined) {
      setTestRelay(relays[0]);
    }
  }, [relays.join(',')]);

  const exportLog = async () => {
    const text = await bridge.exportLog();
    const file = `lime-connect-webhook-log-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
    link.download = file;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    notify(t('doneExport', { file }));
  };

  const clearDelivered = async () => {
    const page = await bridge.listEvents({ statuses: ['delivered'], limit: 1 });

    if (!window.confirm(t('confirmClear', { n: page.total }))) {
      return;
    }

    const result = await bridge.clearDelivered();
    notify(t('doneClear', { n: result.message }));
  };

  const sendTest = async () => {
    const result = await bridge.sendTestEvent(testRelay);
    notify(result.ok ? t('doneTest', { id: result.eventId ?? '' }) : describeFailure(t, result));
  };

  return (
    <div class="toolbar">
      {(props.info?.pausedRelays ?? []).map((relay) => (
        <p class="paused" role="status" key={relay}>
          {t('pausedRelay', { relay })}{' '}
          <button
            type="button"
            onClick={async () => {
              await bridge.resumeRelay(relay);
              notify(t('doneResume', { relay }));
            }}
          >
            {t('resumeRelay', { relay })}
          </button>
        </p>
      ))}
      <div class="toolbar-row">
        <label>
          {t('testRelay')}
          <select value={testRelay} onChange={(event) => setTestRelay(event.currentTarget.value)}>
            {relays.map((id) => (
              <option value={id} key={id}>
                {id}
              </option>
            ))}
          </select>
        </label>
        <button type="button" disabled={testRelay === ''} onClick={() => void sendTest()}>
          {t('sendTest')}
        </button>
        <span class="spacer" />
        <button type="button" onClick={() => void exportLog()}>
          {t('exportLog')}
        </button>
        <button type="button" class="danger" onClick={() => void clearDelivered()}>
          {t('clearDelivered')}
        </button>
      </div>
    </div>
  );
}
