import { RenderPacer } from './render-pacer';

describe('RenderPacer', () => {
  it('keeps ten renders a second while they are quick', () => {
    const pacer = new RenderPacer();
    for (let i = 0; i < 20; i++) pacer.rendered(4);
    expect(pacer.intervalMs).toBe(100);
  });

  it('spaces renders out, doubling up to the bound, while they are slow, and comes back step by step', () => {
    const pacer = new RenderPacer(100, 400, 12);
    pacer.rendered(30);
    expect(pacer.intervalMs).toBe(200);
    pacer.rendered(30);
    pacer.rendered(30);
    expect(pacer.intervalMs).toBe(400);
    pacer.rendered(5);
    expect(pacer.intervalMs).toBe(375);
    for (let i = 0; i < 20; i++) pacer.rendered(5);
    expect(pacer.intervalMs).toBe(100);
  });
});
