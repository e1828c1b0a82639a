/**
 * In the page: draws the screenshots' scene — a yellow ball with white seams on a green lawn under a
 * blue sky (no third-party photo ships with the app) — and opens it as a still picture. Runs in
 * the browser (passed to `evaluate`), so it uses nothing outside itself.
 */
export async function openDrawnScene(): Promise<void> {
  const w = window as unknown as { whycam?: { openImage(b: Blob): Promise<void> } };
  while (!w.whycam) await new Promise((r) => setTimeout(r, 100));
  const c = new OffscreenCanvas(640, 480);
  const g = c.getContext('2d')!;
  g.fillStyle = '#6fa8dc';
  g.fillRect(0, 0, 640, 260);
  g.fillStyle = '#4e8f3a';
  g.fillRect(0, 260, 640, 220);
  const ball = g.createRadialGradient(300, 280, 10, 320, 300, 90);
  ball.addColorStop(0, '#fff59d');
  ball.addColorStop(1, '#c9a400');
  g.fillStyle = ball;
  g.beginPath();
  g.arc(320, 300, 90, 0, Math.PI * 2);
  g.fill();
  g.strokeStyle = '#ffffff';
  g.lineWidth = 6;
  g.beginPath();
  g.arc(250, 300, 90, -0.9, 0.9);
  g.stroke();
  g.beginPath();
  g.arc(390, 300, 90, Math.PI - 0.9, Math.PI + 0.9);
  g.stroke();
  await w.whycam.openImage(await c.convertToBlob({ type: 'image/png' }));
}
