// The page's icons: line drawings on a 24×24 grid, drawn in the text's colour (CSS .icon).
// One per top class of the category tree, keyed by its code; a class added later gets the
// generic one.

import { svg } from './dom.js';

const circle = (x, y, r) => `M${x - r} ${y}a${r} ${r} 0 1 0 ${2 * r} 0a${r} ${r} 0 1 0 ${-2 * r} 0`;

const PATHS = {
  // the category classes
  component_public_facilities: 'M9 21h6M12 21V7a4 4 0 0 1 4-4h2M15.5 3v3.5h5V3',
  component_roads_traffic: 'M4 21L9 3M20 21L15 3M12 4.5v3M12 10.5v3M12 16.5v3',
  component_cityscape: 'M4 7h16M9 7V4h6v3M6 7l1.2 14h9.6L18 7M10 11v6M14 11v6',
  component_greenery: `M12 22v-8M12 17l-3-2.5M12 15.5l3-2${circle(12, 8.5, 5.5)}`,
  component_buildings_land: 'M3 11l9-8 9 8M5 9.3V21h14V9.3M10 21v-6h4v6',
  component_other_facilities: 'M4 4h7v7H4zM13 4h7v7h-7zM4 13h7v7H4zM13 13h7v7h-7z',
  event_cityscape: 'M15 2.5l-3.5 8.5M6 11h9.5l2 10H4zM8.5 15v6M12.5 15v6',
  event_advertising: 'M3 9.5v5h3l7 4.5V5L6 9.5zM16.5 9a4 4 0 0 1 0 6M19 6.5a7.5 7.5 0 0 1 0 11',
  event_construction: 'M10 3h4l5 16H5zM3 21h18M7.8 10.5h8.4M6.5 15h11',
  event_emergencies: 'M12 3L2 20.5h20zM12 9.5v5.5M12 17.8v.4',
  event_street_order: `M3 13l2.2-6h13.6l2.2 6v5H3zM3 13h18M6 18v2.5M18 18v2.5${circle(7, 15.5, 0.6)}${circle(17, 15.5, 0.6)}`,
  generic: `${circle(12, 12, 9)}M8 12h.2M12 12h.2M16 12h.2`,
  // the page
  camera: `M3 8h4l2-3h6l2 3h4v12H3z${circle(12, 13.5, 4)}`,
  list: 'M8 6h13M8 12h13M8 18h13M3.5 6h.5M3.5 12h.5M3.5 18h.5',
  points: `${circle(12, 12, 9)}M12 7l1.5 3.2 3.5.4-2.6 2.4.7 3.5-3.1-1.8-3.1 1.8.7-3.5L7 10.6l3.5-.4z`,
  locate: `${circle(12, 12, 7)}M12 2v3M12 19v3M2 12h3M19 12h3${circle(12, 12, 2)}`,
  photo: `M3 5h18v14H3zM3 16l5-5 4 4 3-3 6 6${circle(16, 9, 1.5)}`,
  close: 'M6 6l12 12M18 6L6 18',
  check: 'M4 12.5l5 5L20 6.5',
  retry: 'M20 11a8 8 0 1 0-2.3 5.7M20 4v7h-7',
  chevron: 'M9 5l7 7-7 7',
  back: 'M15 5l-7 7 7 7',
  wifiOff: 'M3 3l18 18M8.5 16.5a5 5 0 0 1 7 0M5 12.5a10 10 0 0 1 5-2.6M19 12.5a10 10 0 0 0-2.3-1.6M2 8.8a15 15 0 0 1 4.6-2.9M22 8.8A15 15 0 0 0 11 5M12 20h.01',
  pin: `M12 21s-7-6.2-7-11.5a7 7 0 0 1 14 0C19 14.8 12 21 12 21z${circle(12, 9.5, 2.5)}`,
  user: `${circle(12, 8, 4)}M4 21a8 8 0 0 1 16 0`,
  phone: 'M5 3.5h3.5l2 5-2.3 1.4a11 11 0 0 0 5.9 5.9l1.4-2.3 5 2V19a2 2 0 0 1-2 2A17 17 0 0 1 3 5.5a2 2 0 0 1 2-2z',
  gift: 'M4 11h16v10H4zM3 7h18v4H3zM12 7v14M12 7C10.5 4 6.5 3.5 6.5 5.5S10 7 12 7zM12 7c1.5-3 5.5-3.5 5.5-1.5S14 7 12 7z',
  heart: 'M12 20s-8-4.9-8-10.5A4.5 4.5 0 0 1 12 6.7a4.5 4.5 0 0 1 8 2.8C20 15.1 12 20 12 20z',
};

/** An icon as an <svg> element; a name it does not know gets the generic one. */
export function icon(name, className = '') {
  const element = svg('svg', {
    viewBox: '0 0 24 24',
    class: `icon ${className}`.trim(),
    'aria-hidden': 'true',
    focusable: 'false',
  });
  element.append(svg('path', { d: PATHS[name] || PATHS.generic }));
  return element;
}
