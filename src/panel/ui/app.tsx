import { useEffect, useMemo, useState } from 'preact/hooks';
import type { PanelInfo } from '../bridge.js';
import type { ClientBridge } from './bridge-client.js';
import { DevControls } from './dev-controls.js';
import { EventDetail } from './event-detail.js';
import { EventLog } from './event-log.js';
import { LogToolbar } from './log-toolbar.js';
import { languageFor, LANGUAGES, translator, type Language } from './messages.js';
import { Monitoring } from './monitoring.js';
import { PanelContext, type PanelContextValue } from './panel-context.js';
import { SettingsForm } from './settings-form.js';

type Tab = 'log' | 'monitoring' | 'settings';

/** Maximum wait between a change in the plugin and the refetch it causes, in milliseconds. */
const REFRESH_THROTTLE_MS = 150;

export function App(props: { client: ClientBridge }) {
  const { bridge, dev } = props.client;
  const [info, setInfo] = useState<PanelInfo | undefined>(undefined);
  const [chosenLanguage, setChosenLanguage] = useState<Language | undefined>(undefined);
  const [tab, setTab] = useState<Tab>('log');
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const [notice, setNotice] = useState('');
  const [connected, setConnected] = useState(true);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const unsubscribe = bridge.subscribe(() => {
      timer ??= setTimeout(() => {
        timer = undefined;
        setVersion((value) => value + 1);
      }, REFRESH_THROTTLE_MS);
    });
    props.client.onConnection((up) => {
      setConnected(up);

      if (up) {
        setVersion((value) => value + 1);
      }
    });
    return () => {
      unsubscribe();
      clearTimeout(timer);
    };
  }, [bridge]);

  useEffect(() => {
    void bridge
      .info()
      .then(setInfo)
      .catch(() => undefined);
  }, [bridge, version]);

  const language = chosenLanguage ?? languageFor(info?.locale);

  useEffect(() => {
    document.documentElement.lang = language;
  }, [language]);

  const context: PanelContextValue = useMemo(
    () => ({
      bridge,
      t: translator(language),
      locale: language,
      notify: setNotice,
      version,
    }),
    [bridge, language, version],
  );
  const { t } = context;

  useEffect(() => {
    document.title = `${t('title')} · lime-connect-webhook`;
  }, [t]);

  const tabs: Array<{ id: Tab; label: string }> = [
    { id: 'log', label: t('tabLog') },
    { id: 'monitoring', label: t('tabMonitoring') },
    { id: 'settings', label: t('tabSettings') },
  ];

  return (
    <PanelContext.Provider value={context}>
      <header class="top">
        <h1>{t('title')}</h1>
        <span class="version">lime-connect-webhook {info?.pluginVersion ?? ''}</span>
        <span class="spacer" />
        <label>
          {t('language')}
          <select
            id="language"
            value={language}
            onChange={(event) => setChosenLanguage(event.currentTarget.value as Language)}
          >
            {LANGUAGES.map((entry) => (
              <option value={entry.id} key={entry.id} lang={entry.id}>
                {entry.name}
              </option>
            ))}
          </select>
        </label>
      </header>
      <p class="notice" role="status" aria-live="polite">
        {connected ? notice : t('connectionLost')}
      </p>
      {dev === undefined ? null : <DevControls dev={dev} />}
      <nav class="tabs" aria-label={t('title')}>
        {tabs.map((entry) => (
          <button
            type="button"
            id={`tab-${entry.id}`}
            key={entry.id}
            aria-current={tab === entry.id ? 'page' : undefined}
            onClick={() => setTab(entry.id)}
          >
            {entry.label}
          </button>
        ))}
      </nav>
      <main aria-labelledby={`tab-${tab}`}>
        {tab === 'log' ? (
          <>
            <LogToolbar info={info} />
            <div class={selected === undefined ? 'log-layout' : 'log-layout with-detail'}>
              <EventLog selected={selected} onSelect={setSelected} />
              {selected === undefined ? null : (
                <EventDetail id={selected} onClose={() => setSelected(undefined)} />
              )}
            </div>
          </>
        ) : null}
        {tab === 'monitoring' ? <Monitoring /> : null}
        {tab === 'settings' ? <SettingsForm /> : null}
      </main>
    </PanelContext.Provider>
  );
}
