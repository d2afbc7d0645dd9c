import { useEffect, useState } from 'preact/hooks';

/** Returns the current time, updated every second, so that ages and countdowns move. */
export function useNow(): number {
  const [now, setNow] = useState(Date.now());

  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);

  return now;
}
