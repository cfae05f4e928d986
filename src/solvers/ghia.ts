/**
 * Published benchmark values of the lid-driven cavity that the cavity solver and
 * its tests are checked against.
 *
 * @module
 */

/**
 * Ghia, U., Ghia, K. N. & Shin, C. T. (1982), "High-Re solutions for incompressible
 * flow using the Navier–Stokes equations and a multigrid method", J. Comput. Phys.
 * 48, 387–411, Re = 100 columns. Table I: u along the vertical line through the
 * centre, (y, u); Table II: v along the horizontal line through the centre, (x, v).
 * The published coordinates are their 129-point grid's nodes rounded to 4 digits;
 * readers take them at the node k/128 nearest to each. Each table includes its two
 * wall values first and last.
 */
export const GHIA_RE100_U: [number, number][] = [
  [1.0, 1.0],
  [0.9766, 0.84123],
  [0.9688, 0.78871],
  [0.9609, 0.73722],
  [0.9531, 0.68717],
  [0.8516, 0.23151],
  [0.7344, 0.00332],
  [0.6172, -0.13641],
  [0.5, -0.20581],
  [0.4531, -0.2109],
  [0.2813, -0.15662],
  [0.1719, -0.1015],
  [0.1016, -0.06434],
  [0.0703, -0.04775],
  [0.0625, -0.04192],
  [0.0547, -0.03717],
  [0.0, 0.0],
];
export const GHIA_RE100_V: [number, number][] = [
  [1.0, 0.0],
  [0.9688, -0.05906],
  [0.9609, -0.07391],
  [0.9531, -0.08864],
  [0.9453, -0.10313],
  [0.9063, -0.16914],
  [0.8594, -0.22445],
  [0.8047, -0.24533],
  [0.5, 0.05454],
  [0.2344, 0.17527],
  [0.2266, 0.17507],
  [0.1563, 0.16077],
  [0.0938, 0.12317],
  [0.0781, 0.1089],
  [0.0703, 0.10091],
  [0.0625, 0.09233],
  [0.0, 0.0],
];
