import { useEffect, useRef, useState } from 'preact/hooks';
import type { ValidationIssue } from '../bridge.js';
import type { MessageKey } from './messages.js';
import { usePanel } from './panel-context.js';

interface RelayDraft {
  id: string;
  callbackUrl: string;
  secret: string;
  paused: boolean;
}

interface Draft {
  enabled: boolean;
  useRegistry: boolean;
  relays: RelayDraft[];
  retry: { initialDelayMs: string; maxDelayMs: string; maxAgeHours: string };
  network: {
    allowPrivateAddresses: boolean;
    timeoutMs: string;
    extraCaCertificates: string[];
  };
}

interface SettingsShape {
  enabled: boolean;
  useRegistry: boolean;
  relays: Record<string, { callbackUrl?: string; secret?: string; paused?: boolean }>;
  retry: { initialDelayMs: number; maxDelayMs: number; maxAgeHours: number };
  network: { allowPrivateAddresses: boolean; timeoutMs: number; extraCaCertificates: string[] };
}

function toDraft(settings: SettingsShape): Draft {
  return {
    enabled: settings.enabled,
    useRegistry: settings.useRegistry,
    relays: Object.entries(settings.relays).map(([id, relay]) => ({
      id,
      callbackUrl: relay.callbackUrl ?? '',
      secret: relay.secret ?? '',
      paused: relay.paused === true,
    })),
    retry: {
      initialDelayMs: String(settings.retry.initialDelayMs),
      maxDelayMs: String(settings.retry.maxDelayMs),
      maxAgeHours: String(settings.retry.maxAgeHours),
    },
    network: {
      allowPrivateAddresses: settings.network.allowPrivateAddresses,
      timeoutMs: String(settings.network.timeoutMs),
      extraCaCertificates: settings.network.extraCaCertificates,
    },
  };
}

/** Numbers typed into the form; text that is not a number goes to the schema as text. */
function readNumber(text: string): number | string {
  const value = Number(text);
  return text.trim() !== '' && Number.isFinite(value) ? value : text;
}

function fromDraft(draft: Draft): unknown {
  const relays: Record<string, unknown> = {};

  for (const relay of draft.relays) {
    relays[relay.id] = {
      ...(relay.callbackUrl.trim() === '' ? {} : { callbackUrl: relay.callbackUrl.trim() }),
      ...(relay.secret.trim() === '' ? {} : { secret: relay.secret.trim() }),
      ...(relay.paused ? { paused: true } : {}),
    };
  }

  return {
    enabled: draft.enabled,
    useRegistry: draft.useRegistry,
    relays,
    retry: {
      initialDelayMs: readNumber(draft.retry.initialDelayMs),
      maxDelayMs: readNumber(draft.retry.maxDelayMs),
      maxAgeHours: readNumber(draft.retry.maxAgeHours),
    },
    network: {
      allowPrivateAddresses: draft.network.allowPrivateAddresses,
      timeoutMs: readNumber(draft.network.timeoutMs),
      extraCaCertificates: draft.network.extraCaCertificates,
    },
  };
}

/** Turns a settings path into an element id: `relays.acme.callbackUrl` → `field-relays-acme-callbackUrl`. */
function fieldId(path: string): string {
  return `field-${path.replace(/[^A-Za-z0-9_-]/g, '-')}`;
}

/** The settings form; each field shows the settings schema's message for it as you type. */
export function SettingsForm() {
  const { bridge, t, notify } = usePanel();
  const [draft, setDraft] = useState<Draft | undefined>(undefined);
  const [issues, setIssues] = useState<ValidationIssue[]>([]);
  const checked = useRef(0);
  // Id of the element to focus once the form shows an added or removed certificate.
  const focusAfterRender = useRef<string | undefined>(undefined);

  useEffect(() => {
    const id = focusAfterRender.current;
    focusAfterRender.current = undefined;

    if (id !== undefined) {
      document.getElementById(id)?.focus();
    }
  });

  useEffect(() => {
    void bridge.getSettings().then((settings) => setDraft(toDraft(settings as SettingsShape)));
  }, [bridge]);

  const change = (next: Draft) => {
    setDraft(next);
    const request = ++checked.current;
    void bridge.validateSettings(fromDraft(next)).then((found) => {
      if (request === checked.current) {
        setIssues(found);
      }
    });
  };

  if (draft === undefined) {
    return null;
  }

  const issueFor = (path: string) => issues.find((issue) => issue.field === path);
  const placed = new Set<string>();

  const field = (
    path: string,
    labelKey: MessageKey,
    input: (props: Record<string, unknown>) => preact.JSX.Element,
    labelValues?: Record<string, string>,
  ) => {
    const issue = issueFor(path);
    const id = fieldId(path);
    placed.add(path);
    return (
      <div class={issue === undefined ? 'field' : 'field invalid'}>
        <label for={id}>{t(labelKey, labelValues)}</label>
        {input({
          id,
          'aria-invalid': issue !== undefined,
          'aria-describedby': issue === undefined ? undefined : `${id}-message`,
        })}
        {issue === undefined ? null : (
          <p class="field-message" id={`${id}-message`} role="alert">
            {issue.message}
          </p>
        )}
      </div>
    );
  };

  const setCertificates = (certificates: string[], focus: string) => {
    focusAfterRender.current = focus;
    change({ ...draft, network: { ...draft.network, extraCaCertificates: certificates } });
  };

  const certificates = draft.network.extraCaCertificates;
  const certificatesIssue = issueFor('network.extraCaCertificates');
  placed.add('network.extraCaCertificates');

  const setRelay = (index: number, patch: Partial<RelayDraft>) =>
    change({
      ...draft,
      relays: draft.relays.map((relay, at) => (at === index ? { ...relay, ...patch } : relay)),
    });

  const save = async (event: Event) => {
    event.preventDefault();
    const result = await bridge.saveSettings(fromDraft(draft));

    if (result.ok) {
      setIssues([]);
      setDraft(toDraft(result.settings as SettingsShape));
      notify(t('saved'));
    } else {
      setIssues(result.issues);
      const count = result.issues.length;
      notify(count === 1 ? t('invalidSettingsOne') : t('invalidSettingsMany', { n: count }));
    }
  };

  const form = (
    <form class="settings" onSubmit={(event) => void save(event)} noValidate>
      <p>{t('settingsIntro')}</p>
      <div class="check">
        <input
          type="checkbox"
          id="field-enabled"
          checked={draft.enabled}
          onChange={(event) => change({ ...draft, enabled: event.currentTarget.checked })}
        />
        <label for="field-enabled">{t('enabled')}</label>
      </div>
      <div class="check">
        <input
          type="checkbox"
          id="field-useRegistry"
          checked={draft.useRegistry}
          onChange={(event) => change({ ...draft, useRegistry: event.currentTarget.checked })}
        />
        <label for="field-useRegistry">{t('useRegistry')}</label>
      </div>
      <fieldset>
        <legend>{t('relays')}</legend>
        {draft.relays.map((relay, index) => {
          const base = `relays.${relay.id}`;
          return (
            <div class="relay" key={index} data-relay-index={index}>
              {field(base, 'relayId', (props) => (
                <input
                  {...props}
                  value={relay.id}
                  onInput={(event) => setRelay(index, { id: event.currentTarget.value })}
                />
              ))}
              {field(`${base}.callbackUrl`, 'callbackUrl', (props) => (
                <input
                  {...props}
                  type="url"
                  value={relay.callbackUrl}
                  onInput={(event) => setRelay(index, { callbackUrl: event.currentTarget.value })}
                />
              ))}
              {field(`${base}.secret`, 'secret', (props) => (
                <input
                  {...props}
                  type="password"
                  autoComplete="off"
                  value={relay.secret}
                  onInput={(event) => setRelay(index, { secret: event.currentTarget.value })}
                />
              ))}
              <div class="check">
                <input
                  type="checkbox"
                  id={`${fieldId(base)}-paused`}
                  checked={relay.paused}
                  onChange={(event) => setRelay(index, { paused: event.currentTarget.checked })}
                />
                <label for={`${fieldId(base)}-paused`}>{t('paused')}</label>
              </div>
              <button
                type="button"
                class="danger"
                onClick={() =>
                  change({ ...draft, relays: draft.relays.filter((_, at) => at !== index) })
                }
              >
                {t('removeRelay', { relay: relay.id })}
              </button>
            </div>
          );
        })}
        <button
          type="button"
          onClick={() =>
            change({
              ...draft,
              relays: [...draft.relays, { id: '', callbackUrl: '', secret: '', paused: false }],
            })
          }
        >
          {t('addRelay')}
        </button>
      </fieldset>
      <fieldset>
        <legend>{t('retry')}</legend>
        {(['initialDelayMs', 'maxDelayMs', 'maxAgeHours'] as const).map((name) =>
          field(`retry.${name}`, name, (props) => (
            <input
              {...props}
              inputMode="numeric"
              value={draft.retry[name]}
              onInput={(event) =>
                change({ ...draft, retry: { ...draft.retry, [name]: event.currentTarget.value } })
              }
            />
          )),
        )}
      </fieldset>
      <fieldset>
        <legend>{t('network')}</legend>
        <div class="check">
          <input
            type="checkbox"
            id="field-network-allowPrivateAddresses"
            checked={draft.network.allowPrivateAddresses}
            onChange={(event) =>
              change({
                ...draft,
                network: { ...draft.network, allowPrivateAddresses: event.currentTarget.checked },
              })
            }
          />
          <label for="field-network-allowPrivateAddresses">{t('allowPrivateAddresses')}</label>
        </div>
        {field('network.timeoutMs', 'timeoutMs', (props) => (
          <input
            {...props}
            inputMode="numeric"
            value={draft.network.timeoutMs}
            onInput={(event) =>
              change({
                ...draft,
                network: { ...draft.network, timeoutMs: event.currentTarget.value },
              })
            }
          />
        ))}
        <fieldset class="certificates">
          <legend>{t('extraCaCertificates')}</legend>
          {certificates.length === 0 ? <p>{t('noCaCertificates')}</p> : null}
          {certificates.map((pem, index) => (
            <div class="certificate" key={index}>
              {field(
                `network.extraCaCertificates.${index}`,
                'caCertificate',
                (props) => (
                  <textarea
                    {...props}
                    rows={4}
                    spellcheck={false}
                    placeholder="-----BEGIN CERTIFICATE-----"
                    value={pem}
                    onInput={(event) =>
                      change({
                        ...draft,
                        network: {
                          ...draft.network,
                          extraCaCertificates: certificates.map((value, at) =>
                            at === index ? event.currentTarget.value : value,
                          ),
                        },
                      })
                    }
                  />
                ),
                { n: String(index + 1) },
              )}
              <button
                type="button"
                class="danger"
                onClick={() =>
                  setCertificates(
                    certificates.filter((_, at) => at !== index),
                    'add-certificate',
                  )
                }
              >
                {t('removeCaCertificate', { n: index + 1 })}
              </button>
            </div>
          ))}
          {certificatesIssue === undefined ? null : (
            <p class="field-message" role="alert">
              {certificatesIssue.message}
            </p>
          )}
          <button
            type="button"
            id="add-certificate"
            onClick={() =>
              setCertificates(
                [...certificates, ''],
                fieldId(`network.extraCaCertificates.${certificates.length}`),
              )
            }
          >
            {t('addCaCertificate')}
          </button>
        </fieldset>
      </fieldset>
      <button type="submit" class="primary">
        {t('save')}
      </button>
    </form>
  );

  const others = issues.filter((issue) => !placed.has(issue.field));

  return (
    <section aria-labelledby="settings-heading">
      <h2 id="settings-heading" class="visually-hidden">
        {t('tabSettings')}
      </h2>
      {others.length === 0 ? null : (
        <ul class="form-issues" role="alert">
          {others.map((issue) => (
            <li key={issue.field}>{issue.message}</li>
          ))}
        </ul>
      )}
      {form}
    </section>
  );
}
